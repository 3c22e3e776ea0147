"""Tiny crafted jobs in each host-based language, built from the documented layouts.

Each builder returns (job bytes, pages the printer prints). The raster payloads
deliberately contain the bytes a careless scanner would mistake for structure
(form feeds, ESC, '$', "ZZ"), so only a walk by declared lengths counts right.
"""

from __future__ import annotations

import struct

UEL = b"\x1b%-12345X"
TRAP = b"\x0c\x1b\x0c$ZZ\x1b[K\x02\x00\x0c\x1d9bi{I\x0c@PJL SET PAGESTATUS=START\r\n"


def pjl(language: str, *lines: str) -> bytes:
    body = b"".join(f"@PJL {line}\r\n".encode() for line in lines)
    return UEL + b"@PJL JOB\r\n" + body + f"@PJL ENTER LANGUAGE={language}\r\n".encode()


def _zj_chunk(kind: int, payload: bytes = b"", items: int = 0, sig: int = 0x5A5A) -> bytes:
    return struct.pack(">IIIHH", 16 + len(payload), kind, items, 0, sig) + payload


def _zj_item(item: int, value: int) -> bytes:
    return struct.pack(">IHBBI", 12, item, 1, 0, value)


def zjs(
    pages: int = 3,
    copies: int = 1,
    *,
    magic: bytes = b"JZJZ",
    sig: int = 0x5A5A,
    copies_item: int = 4,
) -> tuple[bytes, int]:
    out = [magic, _zj_chunk(0, _zj_item(0, pages), 1, sig)]
    for _ in range(pages):
        out.append(_zj_chunk(2, _zj_item(8, 600) + _zj_item(copies_item, copies), 2, sig))
        out.append(_zj_chunk(9, _zj_item(20, 4), 1, sig))
        out.append(_zj_chunk(5, TRAP * 3, 0, sig))
        out.append(_zj_chunk(10, b"", 0, sig))
        out.append(_zj_chunk(3, b"", 0, sig))
    out.append(_zj_chunk(1, b"", 0, sig))
    return b"".join(out), pages * copies


def slx(pages: int = 2, copies: int = 1) -> tuple[bytes, int]:
    return zjs(pages, copies, magic=b"\xa5SLX", sig=0xA5A5, copies_item=0x101)


def _xqx_rec(kind: int, items: list[tuple[int, int]]) -> bytes:
    body = b"".join(struct.pack(">III", i, 4, v) for i, v in items)
    return struct.pack(">II", kind, len(items)) + body


def xqx(pages: int = 2, copies: int = 1) -> tuple[bytes, int]:
    out = [pjl("PCL").replace(b"@PJL ENTER LANGUAGE=PCL\r\n", b""), UEL, b",XQX"]
    out.append(_xqx_rec(1, [(0x80000000, 84), (0x80000001, 0xDEADBEEF)]))
    for _ in range(pages):
        out.append(_xqx_rec(3, [(0x20000005, copies), (0x20000008, 600)]))
        out.append(_xqx_rec(5, [(0x40000000, 0)]))
        data = TRAP * 2
        out.append(struct.pack(">II", 7, len(data)) + data)
        out.append(_xqx_rec(6, []))
        out.append(_xqx_rec(4, []))
    out.append(_xqx_rec(2, []))
    out.append(UEL + b"@PJL EOJ\n" + UEL)
    return b"".join(out), pages * copies


def _oak(kind: int, payload: bytes = b"") -> bytes:
    size = 12 + len(payload)
    pad = (-size) % 16
    return b"OAKT" + struct.pack("<II", size + pad, kind) + payload + b"\x00" * pad


def oak(pages: int = 2, copies: int = 1) -> tuple[bytes, int]:
    out = [_oak(0x0D, b"\x01\x00OTHER".ljust(66, b"\x00")), _oak(0x0F, struct.pack("<II", 0, 0))]
    for _ in range(pages):
        out.append(_oak(0x14))
        out.append(_oak(0x2A, struct.pack("<II", copies, 0)))
        out.append(_oak(0x15))
        data = TRAP
        pad = (-len(data)) % 16
        head = b"\x00" * 20 + struct.pack("<IIIIII", len(data), len(data) + pad, 0, 0, 3, 0)
        out.append(_oak(0x3C, head[:52]) + data + b"\x00" * pad)
        out.append(_oak(0x17))
        out.append(_oak(0x18, b"\x00\x00"))
    out.append(_oak(0x0B))
    return b"".join(out), pages * copies


def hiperc(pages: int = 2) -> tuple[bytes, int]:
    out = [pjl("HIPERC", "SET COPIES=1")]
    for _ in range(pages):
        out.append(struct.pack(">II", 52, 0) + b"\x00" * 44)
        data = TRAP * 2
        out.append(struct.pack(">II", 8 + len(data), 1) + data)
        out.append(struct.pack(">II", 8, 255))
    out.append(UEL + b"@PJL EOJ\n" + UEL)
    return b"".join(out), pages


def hbpl(pages: int = 2) -> tuple[bytes, int]:
    out = [pjl("HBPL", "SET COPIES=1"), b"\x1bJP<" + b"\x00" * 60]
    for _ in range(pages):
        data = TRAP * 2
        ps = struct.pack("<IIII", 4992, 6400, 1000, len(data)).ljust(60, b"\x00")
        out.append(b"\x1bPS<" + ps + data + b"\x1bPE<" + b"\x00" * 60)
    out.append(b"\x1bDM\x04\x00\x00\x00\x00" + UEL + b"@PJL EOJ\r\n")
    return b"".join(out), pages


def qpdl(pages: int = 2, copies: int = 1, *, plane: bool = True) -> tuple[bytes, int]:
    out = [pjl("QPDL", "SET COLORMODE=MONO")]
    for _ in range(pages):
        out.append(b"\x00\x06" + struct.pack(">H", copies) + b"\x02" + b"\x00" * 12)
        for band in range(2):
            data = b"\x00" + TRAP
            head = struct.pack(">BBHH", 0x0C, band, 1216, 128)
            head += (b"\x04\x13" if plane else b"\x11") + struct.pack(">I", len(data))
            out.append(head + data)
        out.append(b"\x01" + struct.pack(">H", copies))
    out.append(b"\x09" + UEL)
    return b"".join(out), pages * copies


def ddst(pages: int = 2) -> tuple[bytes, int]:
    out = [UEL, b"@PJL\r\n@PJL SET COMPRESS=JBIG\r\n"]
    for _ in range(pages):
        data = b"\x00\x00\x01\x00" + TRAP * 2
        out.append(b"@PJL SET PAGESTATUS=START\r\n@PJL SET COPIES=1\r\n")
        out.append(f"@PJL SET IMAGELEN={len(data)}\r\n".encode() + data)
        out.append(b"@PJL SET DOTCOUNT=1\r\n@PJL SET PAGESTATUS=END\r\n")
    out.append(b"@PJL EOJ\r\n" + UEL)
    return b"".join(out), pages


def lava(pages: int = 2, copies: int = 1) -> tuple[bytes, int]:
    out = [pjl("LAVAFLOW"), b"\x1bE\x1b&l0S\x1b&l" + str(copies).encode() + b"X\x1b*b1234M"]
    for _ in range(pages):
        data = TRAP * 2
        out.append(b"\x1b*r9504s6816T\x1b*r1A\x1b*b20V" + b"\x00" * 20)
        out.append(b"\x1b*b" + str(len(data)).encode() + b"W" + data)
        out.append(b"\x1b*x1K\x1b*rC\x1b&l0H")
    out.append(b"\x1bE" + UEL)
    return b"".join(out), pages * copies


def escpage(pages: int = 2, copies: int = 1) -> tuple[bytes, int]:
    ejl = b"\x1b\x01@EJL \r\n@EJL SELECT LANGUAGE=ESC/PAGE\r\n@EJL ENTER LANGUAGE=ESC/PAGE\r\n"
    out = [ejl, b"\x1bS\x1b\x1bS\x1c\x1bz\x00\x00\x1drhE\x1d" + str(copies).encode() + b"coO"]
    for _ in range(pages):
        data = TRAP * 2
        out.append(b"\x1d64Y\x1d128X\x1d" + str(len(data)).encode() + b";96;64;0bi{I" + data)
        out.append(b"\x1d2;4;1;0;0cpE\x0c")
    out.append(b"\x1b\x01@EJL \r\n")
    return b"".join(out), pages * copies


def lips(pages: int = 2, copies: int = 1) -> tuple[bytes, int]:
    out = [b'\x1b%@\x9041;150;0Jlips4:test\x9c\x9b0"p\x1b<\x9b11h\x9b' + str(copies).encode()]
    out.append(b"v\x902yjob\x9c")
    for _ in range(pages):
        data = TRAP * 2
        out.append(b"\x9b32a\x9b" + str(len(data)).encode() + b";12;150;11;32.r" + data)
        out.append(b"\r\x0c")
    out.append(b"\x900J\x9c")
    return b"".join(out), pages * copies


def bjc(pages: int = 2) -> tuple[bytes, int]:
    out = []
    for _ in range(pages):
        out.append(b"\x1b[K\x02\x00\x00\x0f\x1b(a\x01\x00\x01\x1bC\x00\x0b")
        for _row in range(3):
            data = TRAP
            out.append(b"\x1b(A" + struct.pack("<H", len(data)) + data + b"\r")
        out.append(b"\x1b(e\x02\x00\x00\x01\x0c\x1b@")
    return b"".join(out), pages


def sfax(pages: int = 2) -> tuple[bytes, int]:
    out = [b"Sfff" + struct.pack("<BBHHHII", 1, 0, 0, pages, 20, 0, 0)]
    for _ in range(pages):
        out.append(b"\xfe\x10" + struct.pack("<4BHHII", 1, 0, 0, 0, 1728, 3, 0, 0))
        out.append(b"\x03\xfe\x0c\x1b")  # a 3-byte coded line holding a page-header byte
        out.append(b"\x00" + struct.pack("<H", 300) + b"\xfe" * 300)
        out.append(b"\xff\x00\xff\x02ab")  # an illegal line, then user information
    out.append(b"\xfe\x00")
    return b"".join(out), pages


def _lidil(kind: int, cmd: int, data: bytes = b"") -> bytes:
    return struct.pack(">BHBBBHH", 0x24, 16, 0, kind, cmd, 0, len(data)) + b"\xff" * 5 + b"$" + data


def lidil(pages: int = 2) -> tuple[bytes, int]:
    out = [struct.pack(">BHBBBHH", 0x24, 256, 0, 7, 0, 0, 0) + b"\x00" * 245 + b"$"]
    out.append(_lidil(8, 0) + _lidil(6, 0))
    for _ in range(pages):
        out.append(_lidil(0, 1))
        out.append(_lidil(0, 4, TRAP + b"$\x00\x10\x00\x00\x02"))
        out.append(_lidil(0, 2))
    out.append(_lidil(8, 0) + _lidil(6, 0))
    return b"".join(out), pages


def spl1(pages: int = 2) -> tuple[bytes, int]:
    def block(seq: int, payload: bytes) -> bytes:
        return struct.pack(">IH", len(payload) + 2, seq) + payload

    job = UEL + b"$PJL JOB\r\n$PJL ENTER LANGUAGE=SMART\r\n"
    for _ in range(pages):
        job += b"$PJL BITMAP START\r\n" + block(0, b"\x1b$\xff" * 20) + block(1, TRAP)
        job += b"$PJL PAGE END\r\n"
    return job + UEL + b"$PJL EOJ\r\n", pages


def hbp(pages: int = 2) -> tuple[bytes, int]:
    # As Ghostscript's hl7x0 writes it: "@G", a 3-byte length, raster; "@F" ejects.
    job = UEL + b"@PJL ENTER LANGUAGE = HBP\n@L\x05"
    for _ in range(pages):
        job += b"@G\x00\x00\x0c" + b"@F@F@F@G\x00\x00\x01\xff" + b"@G\x00\x00\x01\xff@F"
    return job + b"@N@X" + UEL, pages
