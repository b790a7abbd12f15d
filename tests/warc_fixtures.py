"""WARC files written in tests from real pages, with warcio (the reference WARC writer).

The pages are the real captures in ``../shared/data`` (see SOURCES.md there); only the WARC
envelope is made here, as a crawler would write it: a request and a response record per page,
one gzip member per record.
"""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# The German FAQPage fixture pages and the URLs they were captured from (their canonical links;
# financescout24 has none, its path is the product page's).
FAQ_PAGES_DE = {
    "computerbild.de-streamingcloud.html": "https://www.computerbild.de/artikel/cb-Tests-Streaming-Cloud-Gaming-Dienste-Test-Spiele-Streaming-Stadia-Amazon-Luna-Geforce-Now-29570643.html",
    "financescout24.de.autokredit.html": "https://www.financescout24.de/kredit/autokredit",
    "giromatch.com.kredit.html": "https://www.giromatch.com/online-kredit/1000-euro-kredit",
    "haus.de-Vorsatzschallung.html": "https://www.haus.de/bauen/vorsatzschalung-33656",
    "haustiermagazin.com-katzenspielzeug.html": "https://www.haustiermagazin.com/kaufratgeber-vergleich-bestes-elektronisches-katzenspielzeug/",
    "smava.de.privatkredit.html": "https://www.smava.de/privatkredit/privatkredit-zinsen/",
}

# The hreflang fixture pages (no FAQPage markup) and their URLs.
HREFLANG_PAGES = {
    "austria.info.radfahren.html": "https://www.austria.info/de/aktivitaeten/radfahren",
    "autosprint.ch-pistenstopp.html": "https://www.autosprint.ch/pistenstopp",
    "kas.de-nordmazedonien.html": "https://www.kas.de/de/web/nordmazedonien",
    "mozilla.org.firefox.developer.html": "https://www.mozilla.org/de/firefox/developer/",
    "parallels.com.desktop.html": "https://www.parallels.com/de/products/desktop/",
    "wbf.admin.ch.14093.html": "https://www.wbf.admin.ch/wbf/de/home/dokumentation/nsb-news_list.msg-id-14093.html",
}
# Two of them as non-FAQ filler in the job tests.
OTHER_PAGES = {name: HREFLANG_PAGES[name] for name in ("mozilla.org.firefox.developer.html", "wbf.admin.ch.14093.html")}


def write_warc(path: Path, pages: list[tuple[str, bytes]], date: str = "2024-05-20T10:00:00Z",
               content_type: str = "text/html; charset=utf-8") -> Path:
    """Write ``pages`` ((url, html bytes)) as request/response pairs into a gzip WARC at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body in pages:
            request = StatusAndHeaders("GET / HTTP/1.1", [("Host", url.split("/")[2])], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "request", payload=BytesIO(b""), http_headers=request,
                warc_headers_dict={"WARC-Date": date}))
            headers = StatusAndHeaders("200 OK", [("Content-Type", content_type),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=BytesIO(body), http_headers=headers,
                warc_headers_dict={"WARC-Date": date}))
    return path


def real_pages(shared_data: Path, faq: dict[str, str] = FAQ_PAGES_DE,
               other: dict[str, str] = OTHER_PAGES) -> list[tuple[str, bytes]]:
    """(url, html) of the real FAQ pages and non-FAQ pages named in ``faq`` and ``other``."""
    pages = [(url, (shared_data / "html-faqpage-jsonld-de" / name).read_bytes()) for name, url in faq.items()]
    pages += [(url, (shared_data / "html-hreflang" / name).read_bytes()) for name, url in other.items()]
    return pages
