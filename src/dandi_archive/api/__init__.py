"""HTTP routers, one per resource. They translate HTTP to service calls and back."""
