"""The OAI-PMH 2.0 protocol (https://www.openarchives.org/OAI/openarchivesprotocol.html).

One function, :func:`respond`, answers a request given as its arguments: every verb,
resumption tokens for long lists, the protocol's own error codes for bad requests (those
are 200 responses with an ``<error>`` element, as the protocol says).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from dandi_archive.harvest import records as rec
from dandi_archive.harvest.formats import DATACITE, DC, FORMATS, OAI_DC, XSI, Format
from dandi_archive.harvest.records import Record

OAI = "http://www.openarchives.org/OAI/2.0/"
for _prefix, _uri in (("xsi", XSI), ("oai_dc", OAI_DC), ("dc", DC), ("datacite", DATACITE)):
    register_namespace(_prefix, _uri)
register_namespace("", OAI)

PAGE_SIZE = 100
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
# The two granularities a date may come in, and the step to the moment after it.
DATE_FORMATS = (("%Y-%m-%d", timedelta(days=1)), ("%Y-%m-%dT%H:%M:%SZ", timedelta(seconds=1)))
ARGUMENTS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Repository:
    """What the protocol says about this archive."""

    name: str
    base_url: str  # the /oai endpoint
    web_url: str  # landing pages live under it
    admin_email: str
    secret: str  # signs resumption tokens
    page_size: int = PAGE_SIZE

    @property
    def namespace(self) -> str:
        return urlsplit(self.web_url).hostname or "localhost"

    def identifier(self, record: Record) -> str:
        return f"oai:{self.namespace}:{record.dandiset_id:06d}/{record.version}"

    def landing_url(self, record: Record) -> str:
        return f"{self.web_url}/dandiset/{record.dandiset_id:06d}/{record.version}"

    def parse_identifier(self, identifier: str) -> tuple[int, str] | None:
        head = f"oai:{self.namespace}:"
        local = identifier[len(head) :] if identifier.startswith(head) else ""
        dandiset, _, version = local.partition("/")
        if not (dandiset.isdigit() and version):
            return None
        return int(dandiset), version


def respond(
    repo: Repository, session: Session, arguments: Mapping[str, Sequence[str]], now: datetime
) -> bytes:
    """The XML document answering one OAI-PMH request."""
    root = Element(
        f"{{{OAI}}}OAI-PMH",
        {f"{{{XSI}}}schemaLocation": f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"},
    )
    SubElement(root, f"{{{OAI}}}responseDate").text = _stamp(now)
    request = SubElement(root, f"{{{OAI}}}request")
    request.text = repo.base_url
    try:
        verb, args = _checked(arguments)
        request.attrib.update(args)
        request.set("verb", verb)
        root.append(_VERBS[verb](repo, session, args))
    except ProtocolError as error:
        SubElement(root, f"{{{OAI}}}error", code=error.code).text = error.message
    return tostring(root, encoding="utf-8", xml_declaration=True)


def _checked(arguments: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    verbs = arguments.get("verb") or []
    if len(verbs) != 1 or verbs[0] not in ARGUMENTS:
        raise ProtocolError("badVerb", "The verb is missing, repeated or not an OAI-PMH verb.")
    verb = verbs[0]
    required, optional = ARGUMENTS[verb]
    args: dict[str, str] = {}
    for name, values in arguments.items():
        if name == "verb":
            continue
        if name not in required | optional:
            raise ProtocolError("badArgument", f"{verb} takes no argument {name!r}.")
        if len(values) != 1:
            raise ProtocolError("badArgument", f"The argument {name!r} is repeated.")
        args[name] = values[0]
    if "resumptionToken" in args:
        if len(args) > 1:
            raise ProtocolError("badArgument", "resumptionToken is an exclusive argument.")
        return verb, args
    missing = sorted(required - args.keys())
    if missing:
        raise ProtocolError("badArgument", f"{verb} needs {', '.join(missing)}.")
    return verb, args


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _identify(repo: Repository, session: Session, args: dict[str, str]) -> Element:
    element = Element(f"{{{OAI}}}Identify")
    earliest = rec.earliest_datestamp(session) or datetime(2000, 1, 1, tzinfo=UTC)
    for tag, text in (
        ("repositoryName", repo.name),
        ("baseURL", repo.base_url),
        ("protocolVersion", "2.0"),
        ("adminEmail", repo.admin_email),
        ("earliestDatestamp", _stamp(earliest)),
        ("deletedRecord", "persistent"),
        ("granularity", GRANULARITY),
    ):
        SubElement(element, f"{{{OAI}}}{tag}").text = text
    return element


def _list_metadata_formats(repo: Repository, session: Session, args: dict[str, str]) -> Element:
    formats = list(FORMATS.values())
    if "identifier" in args:
        record = _find(repo, session, args["identifier"])
        formats = [f for f in formats if record.deleted or _metadata(repo, f, record) is not None]
        if not formats:
            raise ProtocolError("noMetadataFormats", "This record has no metadata formats.")
    element = Element(f"{{{OAI}}}ListMetadataFormats")
    for fmt in formats:
        item = SubElement(element, f"{{{OAI}}}metadataFormat")
        SubElement(item, f"{{{OAI}}}metadataPrefix").text = fmt.prefix
        SubElement(item, f"{{{OAI}}}schema").text = fmt.schema
        SubElement(item, f"{{{OAI}}}metadataNamespace").text = fmt.namespace
    return element


def set_name(spec: str) -> str:
    kind, _, value = spec.partition(":")
    if kind == "license":
        return f"Licence {value.upper()}"
    return f"Data standard {value.upper()}"


def _list_sets(repo: Repository, session: Session, args: dict[str, str]) -> Element:
    if "resumptionToken" in args:
        raise ProtocolError("badResumptionToken", "The list of sets is never split.")
    element = Element(f"{{{OAI}}}ListSets")
    for spec in rec.all_sets(session):
        item = SubElement(element, f"{{{OAI}}}set")
        SubElement(item, f"{{{OAI}}}setSpec").text = spec
        SubElement(item, f"{{{OAI}}}setName").text = set_name(spec)
    return element


def _get_record(repo: Repository, session: Session, args: dict[str, str]) -> Element:
    fmt = _format(args["metadataPrefix"])
    record = _find(repo, session, args["identifier"])
    metadata = None if record.deleted else _metadata(repo, fmt, record)
    if not record.deleted and metadata is None:
        raise ProtocolError("cannotDisseminateFormat", f"This record has no {fmt.prefix}.")
    element = Element(f"{{{OAI}}}GetRecord")
    element.append(_record(repo, record, metadata))
    return element


def _list_identifiers(repo: Repository, session: Session, args: dict[str, str]) -> Element:
    return _list(repo, session, args, "ListIdentifiers", with_metadata=False)


def _list_records(repo: Repository, session: Session, args: dict[str, str]) -> Element:
    return _list(repo, session, args, "ListRecords", with_metadata=True)


@dataclass(frozen=True)
class _Query:
    prefix: str
    since: str | None
    until: str | None
    set: str | None
    cursor: int = 0
    after: tuple[str, int, str] | None = None


def _list(
    repo: Repository, session: Session, args: dict[str, str], verb: str, *, with_metadata: bool
) -> Element:
    query = _token_query(repo, args) if "resumptionToken" in args else _new_query(args)
    fmt = _format(query.prefix)
    after = None
    if query.after is not None:
        after = (datetime.fromisoformat(query.after[0]), query.after[1], query.after[2])
    since = _parse_date(query.since, upper=False) if query.since else None
    before = _parse_date(query.until, upper=True) if query.until else None
    page: list[tuple[Record, Element | None]] = []
    more = False
    for record in _matching(repo, session, fmt, query.set, after, since, before):
        if len(page) == repo.page_size:
            more = True
            break
        page.append(record)
    if not page:
        raise ProtocolError("noRecordsMatch", "No record matches these arguments.")
    element = Element(f"{{{OAI}}}{verb}")
    for record, metadata in page:
        if with_metadata:
            element.append(_record(repo, record, metadata))
        else:
            element.append(_header(repo, record))
    if more or query.cursor:
        token = SubElement(element, f"{{{OAI}}}resumptionToken", cursor=str(query.cursor))
        if more:
            last = page[-1][0]
            token.text = _token(
                repo,
                _Query(
                    query.prefix,
                    query.since,
                    query.until,
                    query.set,
                    query.cursor + len(page),
                    (last.moment.isoformat(), last.dandiset_id, last.version),
                ),
            )
    return element


def _matching(
    repo: Repository,
    session: Session,
    fmt: Format,
    set_spec: str | None,
    after: tuple[datetime, int, str] | None,
    since: datetime | None,
    before: datetime | None,
) -> Iterator[tuple[Record, Element | None]]:
    for record in rec.records(session, after=after, since=since, before=before):
        if set_spec is not None and set_spec not in record.sets:
            continue
        if record.deleted:
            yield record, None
            continue
        metadata = _metadata(repo, fmt, record)
        if metadata is not None:
            yield record, metadata


def _new_query(args: dict[str, str]) -> _Query:
    since, until = args.get("from"), args.get("until")
    lower = _parse_date(since, upper=False) if since else None
    upper = _parse_date(until, upper=True) if until else None
    if since and until and len(since) != len(until):
        raise ProtocolError("badArgument", "from and until must have the same granularity.")
    if lower and upper and lower >= upper:
        raise ProtocolError("badArgument", "from is later than until.")
    return _Query(args["metadataPrefix"], since, until, args.get("set"))


def _parse_date(text: str, *, upper: bool) -> datetime:
    """An OAI-PMH date; ``upper`` gives the first moment after it (until is inclusive)."""
    for pattern, step in DATE_FORMATS:
        try:
            moment = datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
        return moment + step if upper else moment
    raise ProtocolError("badArgument", f"{text!r} is not a date in the form {GRANULARITY}.")


def _serializer(repo: Repository) -> URLSafeSerializer:
    return URLSafeSerializer(repo.secret, salt="oai-pmh resumption")


def _token(repo: Repository, query: _Query) -> str:
    return _serializer(repo).dumps(
        [query.prefix, query.since, query.until, query.set, query.cursor, query.after]
    )


def _token_query(repo: Repository, args: dict[str, str]) -> _Query:
    try:
        prefix, since, until, set_spec, cursor, after = _serializer(repo).loads(
            args["resumptionToken"]
        )
        return _Query(prefix, since, until, set_spec, int(cursor), tuple(after))
    except (BadSignature, ValueError, TypeError):
        raise ProtocolError("badResumptionToken", "This resumption token is not valid.") from None


def _format(prefix: str) -> Format:
    fmt = FORMATS.get(prefix)
    if fmt is None:
        raise ProtocolError("cannotDisseminateFormat", f"No metadata format {prefix!r}.")
    return fmt


def _find(repo: Repository, session: Session, identifier: str) -> Record:
    parsed = repo.parse_identifier(identifier)
    record = rec.find(session, *parsed) if parsed else None
    if record is None:
        raise ProtocolError("idDoesNotExist", f"No record {identifier!r} in this repository.")
    return record


def _metadata(repo: Repository, fmt: Format, record: Record) -> Element | None:
    return fmt.write(record, repo.landing_url(record), repo.name)


def _header(repo: Repository, record: Record) -> Element:
    header = Element(f"{{{OAI}}}header")
    if record.deleted:
        header.set("status", "deleted")
    SubElement(header, f"{{{OAI}}}identifier").text = repo.identifier(record)
    SubElement(header, f"{{{OAI}}}datestamp").text = _stamp(record.datestamp)
    for spec in record.sets:
        SubElement(header, f"{{{OAI}}}setSpec").text = spec
    return header


def _record(repo: Repository, record: Record, metadata: Element | None) -> Element:
    element = Element(f"{{{OAI}}}record")
    element.append(_header(repo, record))
    if metadata is not None:
        SubElement(element, f"{{{OAI}}}metadata").append(metadata)
    return element


_VERBS = {
    "Identify": _identify,
    "ListMetadataFormats": _list_metadata_formats,
    "ListSets": _list_sets,
    "GetRecord": _get_record,
    "ListIdentifiers": _list_identifiers,
    "ListRecords": _list_records,
}
