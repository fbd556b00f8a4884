"""arXiv OAI-PMH: parse_oai on recorded responses (arXiv, oai_dc, arXivRaw formats), bad input,
and the harvester against a local replay server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from paperroute.errors import SourceError
from paperroute.model import PaperRecord, RecordError
from paperroute.sources.http import HttpClient
from paperroute.sources.oai import (
    OaiPage,
    detex_name,
    harvest,
    invert_name,
    parse_oai,
    split_authors,
)
from support.replay import ReplayServer, Reply, load_oai_recording

DATA = Path(__file__).resolve().parent.parent / "data" / "oai-pmh"
OAI_DC_PAGE = "oai_dc_ListRecords_cs_2024-01-25_with_token.xml"
RAW_PAGE = "arxivraw_ListRecords_constructed_final_page.xml"
LISTRECORDS_503 = "oaipmh-listrecords---should-list-identifiers-from-arxiv_0_503.xml"
LISTRECORDS_200 = "oaipmh-listrecords---should-list-identifiers-from-arxiv_1_200.xml"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def records(page: OaiPage) -> list[PaperRecord]:
    return [item for item in page.items if isinstance(item, PaperRecord)]


def errors(page: OaiPage) -> list[RecordError]:
    return [item for item in page.items if isinstance(item, RecordError)]


def oai(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2024-01-27T17:53:42Z</responseDate>"
        f'<request verb="ListRecords">https://oaipmh.arxiv.org/oai</request>{body}</OAI-PMH>'
    ).encode()


def arxiv_record(identifier: str, inner: str, datestamp: str = "2024-01-02") -> str:
    return (
        f"<record><header><identifier>oai:arXiv.org:{identifier}</identifier>"
        f"<datestamp>{datestamp}</datestamp></header><metadata>"
        f'<arXiv xmlns="http://arxiv.org/OAI/arXiv/">{inner}</arXiv></metadata></record>'
    )


# --- arXiv format -------------------------------------------------------------------------


def test_get_record_arxiv_format_golden() -> None:
    page = parse_oai(load("arxiv-single.xml"))
    assert page.error is None and page.resumption_token is None and page.deleted == 0
    assert page.last_datestamp == "2018-01-25"
    [rec] = records(page)
    assert rec.source == "arxiv-oai"
    assert rec.source_key == "oai:arXiv.org:1401.2122"
    assert rec.arxiv_id == "1401.2122"
    assert rec.version is None  # the arXiv format does not say
    assert rec.title == "New integrable (3+1)-dimensional systems and contact geometry"
    assert rec.authors == ("A. Sergyeyev",)
    assert rec.categories == ("math.AP", "hep-th", "math-ph", "math.DG", "math.MP", "nlin.SI")
    assert rec.doi == "10.1007/s11005-017-1013-4"
    assert rec.journal_ref == "Lett. Math. Phys. 108 (2018), no. 2, 359-376"
    assert rec.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert rec.comments is not None
    assert rec.comments.startswith("16 pages, LaTeX, no figures, revised and abridged, in this")
    assert rec.submitted_at == utc(2014, 1, 9)
    assert rec.updated_at == utc(2017, 10, 23)
    assert rec.announced_on is None
    assert rec.abstract.startswith("We introduce a novel systematic construction for integrable")
    assert rec.abstract.endswith("rational in the spectral parameter.")
    assert rec.abs_url == "https://arxiv.org/abs/1401.2122"
    assert rec.record_hash is not None and len(rec.record_hash) == 32


def test_list_records_arxiv_format_three_records() -> None:
    page = parse_oai(load("arxiv-physics-hep-ex.xml"))
    recs = records(page)
    assert [r.arxiv_id for r in recs] == ["1706.05371", "1706.09418", "1707.00874"]
    first, second, _ = recs
    assert first.title == (
        "Evaluation of Silicon Photomultipliers for use as Photosensors in Liquid Xenon Detectors"
    )
    assert first.authors[:3] == ("Tyler Anderson", "Jacob Cutter", "Navneet Dhaliwal")
    assert len(first.authors) == 13 and first.authors[-1] == "Mani Tripathi"
    assert first.categories == ("physics.ins-det", "hep-ex")
    assert first.doi is None
    assert second.title == "R-Parity Violation at the LHC"
    assert second.doi == "10.1140/epjc/s10052-017-5414-4"
    assert second.journal_ref == "Eur. Phys. J. C (2017) 77:856"
    assert second.submitted_at == utc(2017, 6, 28) and second.updated_at == utc(2017, 11, 26)
    assert len({r.record_hash for r in recs}) == 3


def test_arxiv_format_without_namespace_and_several_dois() -> None:
    # This recording's <arXiv> element carries no namespace of its own.
    [rec] = records(parse_oai(load("getrecord-hepcrawl-0.xml")))
    assert rec.arxiv_id == "1601.03238"
    assert rec.title == "Irreversible degradation of quantum coherence under relativistic motion"
    assert rec.authors == (
        "Planck Collaboration",
        "Jieci Wang",
        "Zehua Tian",
        "Jiliang Jing",
        "Heng Fan",
    )
    # "10.1103/PhysRevD.93.016005, 10.1103/PhysRevD.98.079901;10.1103/..." -> the first one
    assert rec.doi == "10.1103/physrevd.93.016005"
    assert rec.categories == ("quant-ph", "gr-qc", "hep-th", "chao-dyn", "nlin.CD")
    assert rec.updated_at == rec.submitted_at == utc(2016, 1, 13)


def test_arxiv_format_entities_and_keyname_only_author() -> None:
    [rec] = records(parse_oai(load("getrecord-hepcrawl-2.xml")))
    assert rec.authors == ("Sinya for JLQCD Collaboration",)
    assert rec.comments is not None
    assert 'A talk given at "The 8th International Workshop on Chiral Dynamics, CD2015"' in (
        rec.comments
    )
    assert "$\\gamma > 2$" in rec.abstract


def test_old_style_id_in_list_records() -> None:
    page = parse_oai(load(LISTRECORDS_200))
    first, second = records(page)
    assert first.arxiv_id == "1412.8544"
    assert first.authors == ("Sander Uijlen", "Bas Westerbaan")  # affiliations not in names
    assert second.source_key == "oai:arXiv.org:hep-th/9504118"
    assert second.arxiv_id == "hep-th/9504118"
    assert second.title.startswith("Discrete Mathematics and Physics on the Planck-Scale")
    assert second.abs_url == "https://arxiv.org/abs/hep-th/9504118"


# --- oai_dc -------------------------------------------------------------------------------


def test_oai_dc_page_golden() -> None:
    page = parse_oai(load(OAI_DC_PAGE))
    assert page.error is None
    assert page.resumption_token == "6960524|1001"
    assert page.complete_list_size == 1162
    assert page.cursor == 0
    assert page.last_datestamp == "2024-01-26"
    recs = records(page)
    assert [r.arxiv_id for r in recs] == [
        "1303.2033",
        "2401.14034",
        "2401.14036",
        "2401.14038",
        "2401.14040",
    ]
    first = recs[0]
    assert first.title == "Extended Fourier analysis of signals"
    assert first.authors == ("Vilnis Liepins",)
    assert first.comments == "32 pages, 9 figures"
    assert first.abstract.startswith("This summary of the doctoral thesis is created to emphasize")
    assert "Comment:" not in first.abstract
    assert first.submitted_at == utc(2013, 3, 8) and first.updated_at == utc(2024, 1, 23)
    assert first.categories == ()  # dc:subject holds names, not category codes
    assert recs[1].authors == (
        "Chuankun Li",
        "Shuai Li",
        "Yanbo Gao",
        "Ping Chen",
        "Jian Li",
        "Wanqing Li",
    )
    assert recs[2].authors[0] == "Jiu-Cheng Xie"
    assert recs[3].code_url == "https://github.com/Regan-Zhang/HaDis"
    assert recs[4].title == "(Chat)GPT v BERT: Dawn of Justice for Semantic Change Detection"
    assert recs[4].comments == "Accepted to the Findings of EACL 2024"


# --- arXivRaw -----------------------------------------------------------------------------


def test_arxiv_raw_page_golden() -> None:
    page = parse_oai(load(RAW_PAGE))
    assert page.error is None
    assert page.resumption_token is None  # an empty <resumptionToken/> ends the list
    assert page.complete_list_size == 1162 and page.cursor == 1001
    assert page.deleted == 1
    assert page.last_datestamp == "2010-01-05"  # the deleted record's header counts
    recs = records(page)
    assert len(page.items) == len(recs) == 5
    assert [r.arxiv_id for r in recs] == [
        "0704.0001",
        "0704.0062",
        "0704.0075",
        "0704.0163",
        "adap-org/9509003",
    ]
    first = recs[0]
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.authors == ("C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan")
    assert first.version == 2
    assert first.submitted_at == utc(2007, 4, 2, 19, 18, 42)
    assert first.updated_at == utc(2007, 7, 24, 20, 10, 27)
    assert first.doi == "10.1103/physrevd.76.013009"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.comments == "37 pages, 15 figures; published version"
    assert first.categories == ("hep-ph",)
    assert recs[1].authors == ("Rastislav Šrámek", "Broňa Brejová", "Tomáš Vinař")
    assert recs[1].version == 1 and recs[1].submitted_at == recs[1].updated_at
    assert recs[2].authors == (
        "Chong Chen",
        "Xiao-Lin Chen",
        "Xiang Liu",
        "Wei-Zhen Deng",
        "Shi-Lin Zhu",
    )
    assert recs[2].version == 3 and recs[2].categories == ("hep-ph", "hep-ex", "nucl-ex")
    assert recs[2].updated_at == utc(2007, 4, 20, 16, 20, 10)
    assert recs[3].authors == ("Peter Brommer", "Franz Gähler")  # affiliation dropped
    assert recs[4].authors == ("Yu Shi",)  # "(Dept. of Phys., fudan University, China)"
    assert recs[4].version == 3 and recs[4].submitted_at == utc(1995, 10, 5, 17, 35, 17)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("A, B and C", ["A", "B", "C"]),
        ("A, B, and C", ["A", "B", "C"]),
        ("Ann Bo (X, Y (Z)) and Cy Do ((1) U1, (2) U2)", ["Ann Bo", "Cy Do"]),
        ("Alexander Sandberg", ["Alexander Sandberg"]),  # "and" inside a name stays
        (
            'Mikkel {\\O}bro, J. M\\"{u}ller, \\c{C}a\\u{g}lar',
            ["Mikkel Øbro", "J. Müller", "Çağlar"],
        ),
    ],
)
def test_split_authors(text: str, names: list[str]) -> None:
    assert split_authors(text) == names


def test_detex_name() -> None:
    assert detex_name("Bal\\'azs") == "Balázs"
    assert detex_name("Tom\\'a\\v{s} Vina\\v{r}") == "Tomáš Vinař"
    assert detex_name("Mart{\\'\\i}n Gro\\ss") == "Martín Groß"
    assert detex_name("Plain Name") == "Plain Name"
    assert invert_name("Bal\\'azs, C.") == "C. Balázs"
    assert invert_name("King, Martin Luther, Jr.") == "Martin Luther King Jr."
    assert invert_name("Planck Collaboration") == "Planck Collaboration"


# --- OAI-PMH errors and whole-document problems --------------------------------------------


def test_oai_error_bad_argument() -> None:
    data = oai('<error code="badArgument">Illegal argument: foo</error>')
    page = parse_oai(data, document="page 3")
    assert page.error == "badArgument: Illegal argument: foo"
    assert page.error_code == "badArgument"
    assert page.items == (
        RecordError("arxiv-oai", "page 3", "OAI-PMH error badArgument: Illegal argument: foo"),
    )


def test_no_records_match_is_an_empty_successful_page() -> None:
    page = parse_oai(oai('<error code="noRecordsMatch">No records match</error>'))
    assert page.error is None and page.items == () and page.resumption_token is None
    assert page.no_records_match
    assert any("noRecordsMatch" in notice for notice in page.notices)


def test_html_error_body_and_other_verbs_are_errors() -> None:
    page = parse_oai(load(LISTRECORDS_503), document="p1")
    assert page.error == "not an OAI-PMH response (root element 'html')"
    assert [e.source_key for e in errors(page)] == ["p1"]
    identify = parse_oai(load("oaipmh-identify---should-identify-arxiv_0_200.xml"))
    assert identify.error is not None and "neither ListRecords nor GetRecord" in identify.error


def test_malformed_xml() -> None:
    page = parse_oai(load("arxiv-single.xml")[:900], document="cut.xml")
    assert page.error is not None and page.error.startswith("malformed XML")
    [err] = errors(page)
    assert err.source_key == "cut.xml" and err.reason.startswith("malformed XML")


def test_entity_bomb_is_refused_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>'
        b"<record><header><identifier>oai:arXiv.org:1401.2122</identifier></header><metadata>"
        b'<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>1401.2122</id><title>&lol3;</title>'
        b"</arXiv></metadata></record></ListRecords></OAI-PMH>"
    )
    page = parse_oai(bomb)
    [err] = page.items
    assert isinstance(err, RecordError) and "entities" in err.reason
    assert page.error is not None and "not allowed" in page.error


def test_external_entity_is_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>&x;'
        b"</ListRecords></OAI-PMH>"
    )
    page = parse_oai(xxe)
    assert page.error is not None and "not allowed" in page.error
    assert not records(page)


def test_broken_records_among_good_ones() -> None:
    good = (
        "<id>1401.2122</id><title>Good one</title><authors><author><keyname>Roe</keyname>"
        "<forenames>Rob</forenames></author></authors>"
    )
    body = (
        "<ListRecords>"
        + arxiv_record("1401.2122", good)
        + arxiv_record("1401.2123", "<id>1401.2123</id><abstract>no title</abstract>")
        + arxiv_record("abc", "<id>abc</id><title>Invalid id</title>")
        + arxiv_record(
            "1401.2124",
            f"<id>1401.2124</id><title>Huge</title><abstract>{'x' * 1_000_000}</abstract>",
        )
        + "<record><header><identifier>oai:arXiv.org:1401.2125</identifier></header></record>"
        + "<record><header><identifier>oai:arXiv.org:1401.2126</identifier></header>"
        '<metadata><marc xmlns="http://www.loc.gov/MARC21/slim"/></metadata></record>'
        + "<record><metadata/></record>"
        + arxiv_record("1401.2127", good.replace("1401.2122", "1401.2127"), "2024-02-01")
        + "</ListRecords>"
    )
    page = parse_oai(oai(body), document="page 1")
    assert page.error is None
    assert [r.arxiv_id for r in records(page)] == ["1401.2122", "1401.2127"]
    assert records(page)[0].authors == ("Rob Roe",)
    reasons = {e.source_key: e.reason for e in errors(page)}
    assert reasons["oai:arXiv.org:1401.2123"] == "missing title"
    assert reasons["oai:arXiv.org:abc"] == "invalid arXiv id 'abc'"
    assert reasons["oai:arXiv.org:1401.2124"].startswith("abstract too long (1,000,000 characters")
    assert reasons["oai:arXiv.org:1401.2125"] == "record has no metadata"
    assert reasons["oai:arXiv.org:1401.2126"].startswith("unsupported metadata format")
    assert reasons["page 1 record 7"] == "record has no header"
    assert page.last_datestamp == "2024-02-01"


# 5,000 nested elements (20 KB): ET.tostring, which fingerprints a record, recurses per level.
DEEP = "<x>" * 5000 + "y" + "</x>" * 5000


def test_deeply_nested_record_is_a_record_error() -> None:
    good = "<id>1401.2122</id><title>Good one</title>"
    body = (
        "<ListRecords>"
        + arxiv_record("1401.2121", f"<id>1401.2121</id><title>Deep</title>{DEEP}")
        + arxiv_record("1401.2122", good)
        + arxiv_record("1401.2123", f"<id>1401.2123</id><title>{DEEP}</title>")
        + "</ListRecords>"
    )
    page = parse_oai(oai(body), document="p")
    assert page.error is None
    assert [r.arxiv_id for r in records(page)] == ["1401.2122"]
    assert errors(page) == [
        RecordError("arxiv-oai", "oai:arXiv.org:1401.2121", "XML nested too deeply"),
        RecordError("arxiv-oai", "oai:arXiv.org:1401.2123", "XML nested too deeply"),
    ]


def test_deeply_nested_document_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = parse_oai(DEEP.encode(), document="d")
    assert whole.error == "not an OAI-PMH response (root element 'x')"
    inside = parse_oai(oai(DEEP), document="d")
    assert inside.error is not None and "neither ListRecords nor GetRecord" in inside.error

    from paperroute.sources import oai as oai_module

    def too_deep(*_args: object) -> None:
        raise RecursionError

    # Whatever recursion is left outside the records ends in one error for the document.
    monkeypatch.setattr(oai_module, "_parse_record", too_deep)
    page = parse_oai(
        oai("<ListRecords>" + arxiv_record("1401.2122", "") + "</ListRecords>"), document="d"
    )
    assert page.items == (RecordError("arxiv-oai", "d", "XML nested too deeply"),)
    assert page.error == "XML nested too deeply"


def test_invalid_utf8_is_replaced_and_said() -> None:
    data = load("arxiv-single.xml").replace(b"A.</forenames>", b"Andr\xe9</forenames>")
    page = parse_oai(data)
    [rec] = records(page)
    assert rec.authors == ("Andr\ufffd Sergyeyev",)
    assert page.notices and "invalid UTF-8" in page.notices[0]


def test_declared_latin1_is_honoured() -> None:
    data = (
        load("arxiv-single.xml")
        .replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
        .replace(b"A.</forenames>", b"Andr\xe9</forenames>")
    )
    page = parse_oai(data)
    assert records(page)[0].authors == ("André Sergyeyev",)
    assert page.notices == ()


def test_record_hash_is_stable_and_content_sensitive() -> None:
    data = load("arxiv-single.xml")
    [a] = records(parse_oai(data))
    [b] = records(parse_oai(data))
    [c] = records(parse_oai(data.replace(b"16 pages, LaTeX", b"17 pages, LaTeX")))
    assert a.record_hash == b.record_hash != c.record_hash


# --- harvest ------------------------------------------------------------------------------


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(sleeps: Sleeps | None = None) -> HttpClient:
    return HttpClient(min_interval=0, sleep=sleeps if sleeps is not None else Sleeps())


def test_harvest_follows_resumption_token() -> None:
    with ReplayServer() as server, client() as http:
        server.add("/oai", Reply(200, load(OAI_DC_PAGE)), query={"metadataPrefix": "oai_dc"})
        server.add("/oai", Reply(200, load(RAW_PAGE)), query={"resumptionToken": "6960524|1001"})
        pages = list(
            harvest(
                http,
                base_url=server.url + "/oai",
                prefix="oai_dc",
                set_spec="cs",
                from_date="2024-01-25",
            )
        )
        assert server.requests == [
            (
                "/oai",
                {
                    "verb": "ListRecords",
                    "metadataPrefix": "oai_dc",
                    "set": "cs",
                    "from": "2024-01-25",
                },
            ),
            ("/oai", {"verb": "ListRecords", "resumptionToken": "6960524|1001"}),
        ]
    assert [p.resumption_token for p in pages] == ["6960524|1001", None]
    assert [len(p.items) for p in pages] == [5, 5]
    assert [p.last_datestamp for p in pages] == ["2024-01-26", "2010-01-05"]


def test_harvest_resumes_from_a_token_alone() -> None:
    with ReplayServer() as server, client() as http:
        server.add("/oai", Reply(200, load(RAW_PAGE)))
        pages = list(
            harvest(
                http, base_url=server.url + "/oai", from_date="2024-01-01", resumption_token="t|5"
            )
        )
        assert server.requests == [("/oai", {"verb": "ListRecords", "resumptionToken": "t|5"})]
    assert len(pages) == 1


def test_harvest_waits_out_a_503_with_retry_after() -> None:
    sleeps = Sleeps()
    with ReplayServer() as server, client(sleeps) as http:
        server.add(
            "/oai2",
            load_oai_recording(DATA / LISTRECORDS_503),
            load_oai_recording(DATA / LISTRECORDS_200),
        )
        pages = list(
            harvest(
                http,
                base_url=server.url + "/oai2",
                prefix="arXiv",
                from_date="2015-01-01",
                until="2015-01-03",
            )
        )
        assert len(server.requests) == 2
        assert server.requests[0][1] == {
            "verb": "ListRecords",
            "metadataPrefix": "arXiv",
            "from": "2015-01-01",
            "until": "2015-01-03",
        }
    assert sleeps == [10.0]
    assert [r.arxiv_id for r in records(pages[0])] == ["1412.8544", "hep-th/9504118"]


def test_harvest_raises_on_oai_error() -> None:
    with ReplayServer() as server, client() as http:
        server.add("/oai", Reply(200, oai('<error code="badArgument">Illegal set</error>')))
        with pytest.raises(SourceError, match="badArgument: Illegal set"):
            list(harvest(http, base_url=server.url + "/oai", set_spec="nope"))


def test_harvest_raises_on_bad_resumption_token() -> None:
    body = oai('<error code="badResumptionToken">expired</error>')
    with ReplayServer() as server, client() as http:
        server.add("/oai", Reply(200, body))
        with pytest.raises(SourceError, match=r"badResumptionToken.*'old'"):
            list(harvest(http, base_url=server.url + "/oai", resumption_token="old"))


def test_harvest_no_records_match_ends_quietly() -> None:
    with ReplayServer() as server, client() as http:
        server.add("/oai", Reply(200, oai('<error code="noRecordsMatch">none</error>')))
        pages = list(harvest(http, base_url=server.url + "/oai", from_date="2030-01-01"))
    assert len(pages) == 1 and pages[0].no_records_match and pages[0].items == ()


def test_harvest_raises_on_unreadable_page_and_repeated_token() -> None:
    with ReplayServer() as server, client() as http:
        server.add("/oai", Reply(200, b"<OAI-PMH><ListRecords>"))
        with pytest.raises(SourceError, match="malformed XML"):
            list(harvest(http, base_url=server.url + "/oai"))
    looping = oai("<ListRecords><resumptionToken>same</resumptionToken></ListRecords>")
    with ReplayServer() as server, client() as http:
        server.add("/oai", Reply(200, looping))
        with pytest.raises(SourceError, match="repeated resumptionToken"):
            list(harvest(http, base_url=server.url + "/oai", resumption_token="same"))
