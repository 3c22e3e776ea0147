"""XPS and OpenXPS (ECMA-388): a zip package of fixed pages.

Facts (ECMA-388, files from Ghostscript's `xpswrite`): the package's root
relationships (`_rels/.rels`) point by a "fixedrepresentation" relationship to a
FixedDocumentSequence part, whose DocumentReference elements name FixedDocument
parts, whose PageContent elements name the FixedPage parts: one page each. Part
names are URIs, relative to the naming part's folder, matched without regard to
case; a part may be stored as interleaved pieces ("name/[0].piece" ...
"name/[n].last.piece"). PrintTicket parts related to the sequence, a document or
a page ask for copies (JobCopiesAllDocuments, DocumentCopiesAllPages, PageCopies).

Every page named must exist in the package, or the job is refused. Only the
small structure parts are decompressed, each capped (a zip bomb is refused
before it is inflated), and XML with a DTD is refused (XPS allows none, and
entities are how XML bombs work).
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from pagetally.errors import CorruptData, LimitReached, PdlError
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._bufio import BufferStream

if TYPE_CHECKING:
    import zipfile
    from xml.etree import ElementTree

_ZIP = b"PK\x03\x04"
_MARKERS = (b".fdseq", b"FixedDocumentSequence", b".fpage", b".fdoc", b"fixedrepresentation")
MAX_PART = 16 << 20  # bytes of one structure part, inflated
MAX_MEMBERS = 1_000_000
MAX_RATIO = 200  # inflated / stored size of a structure part beyond which it is a bomb
_FIXEDREP = "/fixedrepresentation"
_TICKET = "/printticket"
_COPIES = lazy(
    rb'name="(?:\w+:)?(JobCopiesAllDocuments|DocumentCopiesAllPages|PageCopies)"'
    rb".{0,400}?<(?:\w+:)?Value[^>]{0,200}>\s*(\d{1,9})\s*<",
    re.DOTALL,
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Package:
    """The zip's members by lower-case part name, and the capped reads."""

    __slots__ = ("names", "zf")

    def __init__(self, zf: zipfile.ZipFile, names: dict[str, str]) -> None:
        self.zf = zf
        self.names = names  # "/documents/1/fixeddocument.fdoc" -> member name

    def has(self, part: str) -> bool:
        key = part.lower()
        return key in self.names or f"{key}/[0].piece" in self.names

    def read(self, part: str, why: str) -> bytes:
        key = part.lower()
        if key in self.names:
            members = [self.names[key]]
        else:
            members = []
            i = 0
            while f"{key}/[{i}].piece" in self.names:
                members.append(self.names[f"{key}/[{i}].piece"])
                i += 1
            if f"{key}/[{i}].last.piece" not in self.names:
                raise CorruptData(f"XPS: {why} {part} is missing from the package")
            members.append(self.names[f"{key}/[{i}].last.piece"])
        out = bytearray()
        for member in members:
            info = self.zf.getinfo(member)
            if info.file_size > MAX_PART or len(out) + info.file_size > MAX_PART:
                raise LimitReached(f"XPS: {part} inflates to more than {MAX_PART} bytes")
            if info.file_size > MAX_RATIO * max(info.compress_size, 1024):
                raise LimitReached(f"XPS: {part} is compressed beyond any real document")
            with self.zf.open(info) as fh:
                chunk = fh.read(MAX_PART + 1 - len(out))
            out += chunk
            if len(out) > MAX_PART:
                raise LimitReached(f"XPS: {part} inflates to more than {MAX_PART} bytes")
        return bytes(out)

    def xml(self, part: str, why: str) -> ElementTree.Element:
        from xml.etree import ElementTree  # lazy, as every import: each count pays it

        text = self.read(part, why)
        if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
            raise CorruptData(f"XPS: {part} declares a DTD (not allowed in XPS)")
        try:
            return ElementTree.fromstring(text)  # noqa: S314 (no DTD: no entities, checked above)
        except ElementTree.ParseError as exc:
            raise CorruptData(f"XPS: {part} is not well-formed XML ({exc})") from None

    def relationships(self, part: str) -> list[tuple[str, str]]:
        """(type, absolute target) of the part's relationships ('' for the package)."""
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder or "/", "_rels", f"{base}.rels")
        if not self.has(rels):
            return []
        found = []
        for el in self.xml(rels, "relationship part").iter():
            if _local(el.tag) == "Relationship" and el.get("TargetMode") != "External":
                found.append((el.get("Type", ""), resolve(part or "/", el.get("Target", ""))))
        return found

    def copies(self, part: str) -> int:
        """Copies a PrintTicket related to `part` asks for (1 when none)."""
        asked = 1
        for kind, target in self.relationships(part):
            if kind.lower().endswith(_TICKET) and self.has(target):
                for m in _COPIES.finditer(self.read(target, "print ticket")):
                    asked = max(asked, int(m.group(2)))
        return min(asked, 9999)


def resolve(base_part: str, target: str) -> str:
    """A part name from a URI relative to `base_part` (absolute targets as they are)."""
    from urllib.parse import unquote

    target = unquote(target.split("#", 1)[0]).replace("\\", "/")
    if not target:
        raise CorruptData(f"XPS: an empty part reference in {base_part}")
    if not target.startswith("/"):
        target = posixpath.join(posixpath.dirname(base_part) or "/", target)
    return posixpath.normpath(target)


class XpsParser:
    name = "xps"
    format = "XPS"

    def detect(self, head: bytes) -> float:
        if not head.startswith(_ZIP):
            return 0.0
        return 0.95 if any(m in head for m in _MARKERS) else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        import zipfile  # lazy: most jobs are not zips

        try:
            zf = zipfile.ZipFile(BufferStream(data))
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise CorruptData(f"XPS: not a readable zip package ({exc})") from None
        with zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise LimitReached(f"XPS: more than {MAX_MEMBERS} parts")
            # Zip item names are the part names percent-encoded: compare both decoded.
            from urllib.parse import unquote

            names = {"/" + unquote(i.filename.lstrip("/")).lower(): i.filename for i in infos}
            pkg = _Package(zf, names)
            try:
                return self._walk(pkg, limits)
            except PdlError:
                raise
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                raise CorruptData(f"XPS: unreadable part ({exc})") from None
            except ValueError as exc:  # a part or item name that is not UTF-8, bad sizes
                raise CorruptData(f"XPS: unreadable part ({exc})") from None
            except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown method
                raise CorruptData(f"XPS: unreadable part ({exc})") from None

    def _walk(self, pkg: _Package, limits: Limits) -> Analysis:
        roots = [t for k, t in pkg.relationships("") if k.lower().endswith(_FIXEDREP)]
        if len(roots) != 1:
            raise CorruptData(
                f"XPS: the package names {len(roots)} fixed document sequences (needs one)"
            )
        seq = roots[0]
        label = "OpenXPS" if b"openxps" in pkg.read(seq, "document sequence") else self.format
        docs = [
            resolve(seq, el.get("Source", ""))
            for el in pkg.xml(seq, "document sequence").iter()
            if _local(el.tag) == "DocumentReference"
        ]
        total = 0
        notes: list[str] = []
        job_copies = pkg.copies(seq)
        for doc in docs:
            doc_copies = pkg.copies(doc)
            doc_pages = 0
            for el in pkg.xml(doc, "fixed document").iter():
                if _local(el.tag) != "PageContent":
                    continue
                page = resolve(doc, el.get("Source", ""))
                if not pkg.has(page):
                    raise CorruptData(f"XPS: page {page} named by {doc} is not in the package")
                page_copies = pkg.copies(page) if pkg.has(_rels_of(page)) else 1
                doc_pages += page_copies
                if total + doc_pages > limits.max_pages:
                    raise LimitReached(f"XPS: more than {limits.max_pages} pages")
            total += doc_pages * doc_copies
        if not docs:
            raise CorruptData("XPS: the document sequence names no document")
        copies = max(1, job_copies)
        if copies > 1:
            notes.append(f"print ticket asks for {copies} copies of the job")
        if total * copies > limits.max_pages:
            raise LimitReached(f"XPS: more than {limits.max_pages} pages")
        return Analysis(format=label, pages=total * copies, copies=copies, notes=tuple(notes))


def _rels_of(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{base}.rels")


PARSERS = [XpsParser()]
