"""Measure ideas for making batch generation faster, on packets a batch has just made.

``merge``
    The packet merge: consentkit's pikepdf merge (``consentkit.pdf.merge.merge_pdfs``) against the
    pypdf merge it replaced (writer cloned from the first PDF), time per packet, and whether the two
    packets have the same text and outline and pass ``check_archival``.

``joined``
    Fewer LibreOffice document loads: each client's documents joined into one DOCX (one section
    per document, page numbers restarting, ``NUMPAGES`` turned into ``SECTIONPAGES``), and the
    documents of several clients joined into one DOCX, against converting every document on its
    own. Prints LibreOffice seconds per document, and whether splitting the joined PDF at the
    documents' page counts gives the same pages and the same text per document.

``loads``
    Several packets per LibreOffice load: the documents of 1, 2, 4 and 8 packets joined by
    ``compose_docx`` into one DOCX and converted through one warm LibreOffice, which prints the
    wall time and LibreOffice's CPU per packet (its process sampled from /proc). ``--compose``
    converts one packet per load; this measures what more would save, not what it would cost
    (see ``docs/batch.md``).

``composed``
    How faithful ``--compose`` is at scale: the same clients as a batch with and without it, every
    page of every packet rendered by ``pdftoppm`` (40 dpi, grey) and compared as
    ``tests/test_composed.py`` does; prints how many packets have the same documents on the same
    pages, how many pages differ in more than 0.5 % of their pixels, and in which documents.

Usage::

    python bench/batch_ideas.py --clients 40 --group 10
    python bench/batch_ideas.py --clients 100 --only composed
    python bench/batch_ideas.py --clients 40 --only loads

Figures from this machine are in ``docs/batch.md``.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
from lxml import etree
from pikepdf import OutlineItem
from pypdf import PdfWriter

from consentkit import iter_clients_csv, load_practice
from consentkit.batch import generate_packets
from consentkit.convert import LibreOfficeConverter
from consentkit.pdf.archival import check_archival
from consentkit.pdf.merge import merge_pdfs
from consentkit.pdf.metadata import set_xmp
from consentkit.rendering import compose_docx
from consentkit.warm import WarmConverter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_bench import EXAMPLES, TreeMemory, write_clients_csv

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
FOOTER_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
FOOTER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
ORDER = ["informed_consent", "telehealth_consent", "fees_policy", "esign_consent", "emergency_plan"]


def text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    pages = ["-f", str(first), "-l", str(last)] if first else []
    out = subprocess.run(
        ["pdftotext", *pages, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", " ", out).strip()


# --- merge ------------------------------------------------------------------------------------


def pypdf_merge(pdfs: list[Path], *, title: str, subject: str = "") -> bytes:
    """The packet merge consentkit used before: pypdf writer cloned from the first PDF, the others
    appended, then the XMP edited with pikepdf (pypdf's XMP setters corrupt LibreOffice's XMP)."""
    writer = PdfWriter(clone_from=pdfs[0])
    for pdf in pdfs[1:]:
        writer.append(pdf)
    buffer = io.BytesIO()
    writer.write(buffer)
    return set_xmp(buffer.getvalue(), title=title, subject=subject)


def outline_of(pdf: Path) -> list[tuple[int, str, int]]:
    with pikepdf.open(pdf) as doc, doc.open_outline() as outline:
        pages = {page.objgen: n for n, page in enumerate(doc.pages)}

        def walk(items: list[OutlineItem], depth: int) -> list[tuple[int, str, int]]:
            found = []
            for item in items:
                dest = item.destination
                page = pages.get(dest[0].objgen, -1) if isinstance(dest, pikepdf.Array) and len(dest) else -1
                found.append((depth, str(item.title), page))
                found.extend(walk(list(item.children), depth + 1))
            return found

        return walk(list(outline.root), 0)


def idea_merge(folders: list[Path], work: Path) -> None:
    groups = [[folder / f"{name}.pdf" for name in ORDER] for folder in folders]
    timings = {}
    for label, merge in (
        ("pypdf (the earlier merge)", pypdf_merge),
        ("pikepdf (consentkit.pdf.merge)", merge_pdfs),
    ):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            outputs = [merge(group, title="Consent packet", subject="Practice") for group in groups]
            best = min(best, (time.perf_counter() - started) / len(groups))
        timings[label] = best
        (work / f"merge-{label.split()[0]}.pdf").write_bytes(outputs[0])
    a, b = work / "merge-pypdf.pdf", work / "merge-pikepdf.pdf"
    print("merge of a 5-document packet, best of 3 over", len(groups), "packets:")
    for label, seconds in timings.items():
        print(f"  {label:28s} {seconds * 1000:6.1f} ms/packet")
    print(
        f"  same text: {text(a) == text(b)}; same outline: {outline_of(a) == outline_of(b)} "
        f"({len(outline_of(a))} entries); check_archival: pypdf {check_archival(a) or 'ok'}, "
        f"pikepdf {check_archival(b) or 'ok'}"
    )


# --- joined documents -------------------------------------------------------------------------


def join_docx(documents: list[Path], target: Path) -> None:
    """Join DOCX files made from the stock templates (same styles and numbering) into one DOCX,
    each document its own section starting on a new page with its own footer, page numbers
    restarting at 1 and "of N" counting the section's pages."""
    with zipfile.ZipFile(documents[0]) as first:
        members = {name: first.read(name) for name in first.namelist()}
    body_parts: list[etree._Element] = []
    rels = etree.fromstring(members["word/_rels/document.xml.rels"])
    types = etree.fromstring(members["[Content_Types].xml"])
    for n, path in enumerate(documents, start=1):
        with zipfile.ZipFile(path) as archive:
            document = etree.fromstring(archive.read("word/document.xml"))
            footer = archive.read("word/footer1.xml")
        footer = footer.replace(b" NUMPAGES ", b" SECTIONPAGES ")
        members[f"word/footer{n}.xml"] = footer
        if n > 1:
            etree.SubElement(
                rels,
                f"{{{rels.nsmap[None]}}}Relationship",
                Id=f"rIdJoinFooter{n}",
                Type=FOOTER_REL,
                Target=f"footer{n}.xml",
            )
            etree.SubElement(
                types, f"{{{CT}}}Override", PartName=f"/word/footer{n}.xml", ContentType=FOOTER_TYPE
            )
        body = document.find(f"{{{W}}}body")
        children = list(body)
        sect = children[-1]
        assert sect.tag == f"{{{W}}}sectPr"
        sect = copy.deepcopy(sect)
        sect.find(f"{{{W}}}footerReference").set(
            f"{{{R}}}id", "rIdFooter1" if n == 1 else f"rIdJoinFooter{n}"
        )
        numbering = etree.Element(f"{{{W}}}pgNumType")
        numbering.set(f"{{{W}}}start", "1")
        sect.insert(list(sect).index(sect.find(f"{{{W}}}pgMar")) + 1, numbering)
        body_parts.extend(children[:-1])
        if n < len(documents):
            paragraph = etree.Element(f"{{{W}}}p")
            etree.SubElement(paragraph, f"{{{W}}}pPr").append(sect)
            body_parts.append(paragraph)
        else:
            body_parts.append(sect)
    document = etree.fromstring(members["word/document.xml"])
    body = document.find(f"{{{W}}}body")
    for child in list(body):
        body.remove(child)
    body.extend(body_parts)
    members["word/document.xml"] = etree.tostring(
        document, xml_declaration=True, encoding="UTF-8", standalone=True
    )
    members["word/_rels/document.xml.rels"] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8")
    members["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def idea_joined(folders: list[Path], work: Path, group: int, repeat: int) -> None:
    separate = work / "separate"
    per_client = work / "per-client"
    per_group = work / "per-group"
    for path in (separate, per_client, per_group):
        path.mkdir()
    singles: list[Path] = []
    for n, folder in enumerate(folders):
        docs = [folder / f"{name}.docx" for name in ORDER]
        for doc in docs:
            link = separate / f"{n}-{doc.name}"
            shutil.copyfile(doc, link)
            singles.append(link)
        join_docx(docs, per_client / f"{n}.docx")
    for start in range(0, len(folders), group):
        docs = [folder / f"{name}.docx" for folder in folders[start : start + group] for name in ORDER]
        join_docx(docs, per_group / f"{start}.docx")
    inputs = {
        "one DOCX per document": sorted(separate.glob("*.docx")),
        "one DOCX per client (5 documents)": sorted(per_client.glob("*.docx")),
        f"one DOCX per {group} clients": sorted(per_group.glob("*.docx")),
    }
    documents = len(singles)
    best: dict[str, float] = {}
    with LibreOfficeConverter(timeout=1800) as converter:
        converter.convert(singles[:1], work / "warm")
        for _ in range(repeat):
            for label, files in inputs.items():
                out = work / f"out-{abs(hash(label))}"
                shutil.rmtree(out, ignore_errors=True)
                before = converter.seconds_in_libreoffice
                converter.convert(files, out)
                best[label] = min(best.get(label, float("inf")), converter.seconds_in_libreoffice - before)
    print(f"one LibreOffice process, {len(folders)} clients, {documents} documents, best of {repeat}:")
    base = best["one DOCX per document"]
    for label, seconds in best.items():
        print(
            f"  {label:36s} {seconds:6.2f} s  {seconds / documents * 1000:5.1f} ms/document  "
            f"{base / seconds:4.2f}x"
        )
    # Does splitting give each document's pages and text?
    outputs = {label: work / f"out-{abs(hash(label))}" for label in inputs}
    same_pages = same_text = True
    for n in range(len(folders)):
        joined = outputs["one DOCX per client (5 documents)"] / f"{n}.pdf"
        page = 1
        for name in ORDER:
            alone = outputs["one DOCX per document"] / f"{n}-{name}.pdf"
            with pikepdf.open(alone) as doc:
                pages = len(doc.pages)
            with pikepdf.open(joined) as doc:
                total = len(doc.pages)
            if page + pages - 1 > total:
                same_pages = False
                break
            if text(alone) != text(joined, page, page + pages - 1):
                same_text = False
            page += pages
        with pikepdf.open(joined) as doc:
            same_pages = same_pages and len(doc.pages) == page - 1
    print(
        f"  split per client at the documents' page counts: same page count {same_pages}, "
        f"same text per document {same_text}"
    )


def _pages(pdf: Path, work: Path) -> list[Any]:
    from PIL import Image

    work.mkdir()
    subprocess.run(["pdftoppm", "-r", "40", "-gray", str(pdf), str(work / "p")], check=True)
    return [Image.open(path) for path in sorted(work.glob("p-*.pgm"))]


def _differing(a: Any, b: Any) -> float:
    from PIL import ImageChops

    if a.size != b.size:
        return 1.0
    mask = ImageChops.difference(a, b).point(lambda v: 255 if v > 64 else 0)
    return float(mask.histogram()[255] / (a.size[0] * a.size[1]))


def idea_composed(practice: Any, csv_path: Path, separate: Path, work: Path) -> None:
    composed = work / "composed"
    rows = iter_clients_csv(csv_path)
    with WarmConverter() as warm:
        made = generate_packets(practice, rows, composed, on=date(2026, 11, 27), compose=True, converter=warm)
        results = list(made)
    ok = [r for r in results if r.status == "ok" and r.folder]
    same_ranges = pages = differing = 0
    where: dict[str, int] = {}
    worst = 0.0
    for n, r in enumerate(ok):
        theirs = json.loads((separate / r.folder / "manifest.json").read_text())
        ours = json.loads((composed / r.folder / "manifest.json").read_text())
        ranges = [(d["id"], d["packet_pages"]) for d in ours["documents"]]
        if ranges == [(d["id"], d["packet_pages"]) for d in theirs["documents"]]:
            same_ranges += 1
        a = _pages(separate / r.folder / "packet.pdf", work / f"a{n}")
        b = _pages(composed / r.folder / "packet.pdf", work / f"b{n}")
        for number, (x, y) in enumerate(zip(a, b, strict=False), start=1):
            pages += 1
            share = _differing(x, y)
            worst = max(worst, share)
            if share > 0.005:
                differing += 1
                document = next(
                    (
                        d["id"]
                        for d in theirs["documents"]
                        if d["packet_pages"][0] <= number <= d["packet_pages"][1]
                    ),
                    "?",
                )
                where[document] = where.get(document, 0) + 1
    print(f"composed against separate, {len(ok)} packets ({len(results) - len(ok)} failed):")
    print(f"  same documents on the same pages: {same_ranges} of {len(ok)} packets")
    print(
        f"  pages differing in more than 0.5 % of their pixels: {differing} of {pages}; by document: {where}"
    )
    print(f"  largest difference of any page: {worst:.2%}")


def idea_loads(folders: list[Path], work: Path, sizes: tuple[int, ...] = (1, 2, 4, 8)) -> None:
    packets = [[d for name in ORDER if (d := folder / f"{name}.docx").exists()] for folder in folders]
    with WarmConverter(instances=1) as warm:
        warm.convert([packets[0][0]], work / "loads-warm-up")
        print(f"several packets per LibreOffice load ({len(packets)} packets, one warm LibreOffice):")
        for size in sizes:
            inputs = work / f"loads-{size}"
            inputs.mkdir()
            joined = []
            for start in range(0, len(packets) - size + 1, size):
                group = [d.read_bytes() for packet in packets[start : start + size] for d in packet]
                target = inputs / f"{start}-joined.docx"
                target.write_bytes(compose_docx(group))
                joined.append(target)
            converted = len(joined) * size
            with TreeMemory() as memory:
                started = time.perf_counter()
                warm.convert(joined, work / f"loads-{size}-out")
                wall = time.perf_counter() - started
            print(
                f"  {size} per load: {wall / converted * 1000:.0f} ms per packet, LibreOffice's CPU "
                f"{memory.descendants_cpu / converted * 1000:.0f} ms per packet ({converted} packets)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--group", type=int, default=10, help="clients per joined DOCX (default 10)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", choices=["merge", "joined", "loads", "composed"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="consentkit-ideas-"))
    try:
        write_clients_csv(work / "clients.csv", args.clients)
        practice = load_practice(EXAMPLES / "practice.toml")
        results = list(
            generate_packets(
                practice, iter_clients_csv(work / "clients.csv"), work / "batch", on=date(2026, 11, 27)
            )
        )
        folders = [work / "batch" / r.folder for r in results if r.status == "ok" and r.folder]
        if args.only in (None, "merge"):
            idea_merge(folders, work)
        if args.only in (None, "joined"):
            idea_joined(folders, work, args.group, args.repeat)
        if args.only in (None, "loads"):
            idea_loads(folders, work)
        if args.only in (None, "composed"):
            idea_composed(practice, work / "clients.csv", work / "batch", work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
