"""What lets machines find published Dandisets without the API: OAI-PMH for harvesters
(OpenAIRE, BASE, DataCite), a sitemap for crawlers, FAIR Signposting links on pages.

Only published versions are records; a withdrawn one stays as a *deleted* record, so
harvesters that copied it learn that it is gone.
"""
