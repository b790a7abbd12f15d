"""Buffers, byte search and gzip members: the layer under the WARC reader, which knows nothing of WARC.

* :class:`GzipMembers` reads a file of gzip members (one member per record, as crawlers write
  WARC files) from one reused read buffer and yields each member's decompressed output with its
  offset and length in the file.
* :func:`gunzip_pieces` decompresses the rest of a stream as ``gzip -d`` would, member after
  member; :class:`ByteWindow` is a forward-only window over such pieces (or over an uncompressed
  file) with the few reads a record parser needs.
* :func:`make_needle_finder` is the substring search the scan runs on every payload.

Problems of the byte layer are counted in the ``stats`` Counter the caller passes, under the
names the scan reports: ``garbage_between_records`` (bytes that are no gzip member),
``unreadable_records`` (a member that cannot be decompressed) and ``truncated_files`` (the stream
ends inside a member).

Speed (see ``bench/scan_bench.py``): a member is decompressed by ISA-L (``isal``) from a
memoryview slice of the read buffer, so that no input is copied. The slice ends where the next
member's gzip header is (crawlers write the same 10-byte header on every member; a SIMD search
finds it), so that one call decompresses the whole member; without that hint the slices are sized
from the size the member's head announces and the compression ratio seen so far.
"""
from __future__ import annotations

import enum
from typing import BinaryIO, Callable, Iterator, NamedTuple

from isal import isal_zlib

try:  # optional SIMD substring search; the pure-Python fallback is correct, only slower
    import stringzilla as _stringzilla
except ImportError:  # pragma: no cover - exercised by forcing _SZ_FIND = None in tests
    _stringzilla = None

__all__ = ["READ_SIZE", "GzipMembers", "Member", "MemberState", "ByteWindow", "gunzip_pieces", "make_needle_finder",
           "read_start", "peek_gzip"]

#: Bytes read from the stream at a time.
READ_SIZE = 256 << 10
#: First input slice for a gzip member without a member-end hint: small members fit in it whole.
FIRST_SLICE = 2048
GZIP_MAGIC = b"\x1f\x8b"
GZIP_MEMBER = b"\x1f\x8b\x08"
#: Bytes that may pad a file between members or records without being garbage.
PADDING = b"\x00\r\n\t "

# StringZilla's find(haystack, needle, start, end) on bytes and bytearray; None without it (the
# tests and ``bench/scan_bench.py --no-simd`` set it to None to run the fallbacks).
_SZ_FIND = _stringzilla.find if _stringzilla is not None else None
try:
    if _SZ_FIND is not None and (_SZ_FIND(b"xFAQ", b"FAQ", 1, 4), _SZ_FIND(bytearray(b"ab"), b"b", 0, 1)) != (1, -1):
        _SZ_FIND = None
except Exception:  # pragma: no cover - an stringzilla release with another signature
    _SZ_FIND = None


# --------------------------------------------------------------------------------------------
# Byte search

# Byte classes from rare to common in HTML, to pick the byte that memchr looks for.
_RARITY = {b: 0 for b in b"QZXJKVqzxjY"}
_RARITY.update({b: 1 for b in b"WUBGFHOPMNRLDCIESTAkvwyfb"})
_RARITY.update({b: 2 for b in b"0123456789gpmhulcdo"})
_RARITY.update({b: 4 for b in b" \n\r\t<>=\"'/etaisnr-.:;_"})


def make_needle_finder(needle: bytes, use_simd: bool | None = None) -> Callable[[bytes, int, int], int]:
    """A function ``find(data, start, end)`` returning the index of ``needle`` in
    ``data[start:end]`` or -1: StringZilla's SIMD search when available (``use_simd`` None or
    True), else ``memchr`` on the needle's rarest byte followed by a ``startswith`` check
    (CPython's own ``bytes.find`` runs at about 1 GB/s for a 7-byte needle, slow next to ISA-L)."""
    if not needle:
        raise ValueError("needle must not be empty")
    if use_simd is None:
        use_simd = _SZ_FIND is not None
    if use_simd:
        if _SZ_FIND is None:
            raise ImportError("stringzilla is not installed: pip install stringzilla")
        sz_find = _SZ_FIND

        def find_simd(data: bytes, start: int, end: int) -> int:
            return sz_find(data, needle, start, end)
        return find_simd

    k = min(range(len(needle)), key=lambda i: (_RARITY.get(needle[i], 3), -i))
    anchor = needle[k:k + 1]
    tail = len(needle) - k  # bytes from the anchor to the end of the needle

    def find_memchr(data: bytes, start: int, end: int) -> int:
        stop = end - tail + 1
        i = data.find(anchor, start + k, stop)
        while i >= 0:
            if data.startswith(needle, i - k, end):
                return i - k
            i = data.find(anchor, i + 1, stop)
        return -1
    return find_memchr


# --------------------------------------------------------------------------------------------
# Reading a stream


def reader(stream: BinaryIO) -> Callable[[memoryview], int]:
    """``readinto(view) -> bytes read`` for ``stream``, also when it only has ``read``."""
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        return readinto

    def readinto_by_read(view: memoryview) -> int:
        data = stream.read(len(view))
        view[:len(data)] = data
        return len(data)
    return readinto_by_read


def read_start(stream: BinaryIO, at_least: int = 64) -> bytes:
    """The first block of ``stream`` (:data:`READ_SIZE` bytes), at least ``at_least`` bytes of it
    unless the stream is shorter (network streams may return a few bytes a call)."""
    chunk = stream.read(READ_SIZE)
    while chunk and len(chunk) < at_least:
        more = stream.read(READ_SIZE)
        if not more:
            break
        chunk += more
    return chunk


def peek_gzip(chunk: bytes) -> bytes:
    """The first decompressed bytes of a gzip stream, past empty members (b'' if none)."""
    data = chunk[:1 << 16]
    out = b""
    try:
        while data[:2] == GZIP_MAGIC and len(out) < 16:
            d = isal_zlib.decompressobj(31)
            out += d.decompress(data, 64)
            if not d.eof:
                break
            data = d.unused_data
    except isal_zlib.error:
        pass
    return out


def _is_padding(data) -> bool:
    return not bytes(data).strip(PADDING)


# --------------------------------------------------------------------------------------------
# A file of gzip members


class MemberState(enum.Enum):
    """How the reading of a gzip member ended."""

    COMPLETE = "the member ended"
    TRUNCATED = "the stream ended inside the member"
    CORRUPT = "the member could not be decompressed"
    OVERSIZED = "the member's output went on past the size its head announced"


COMPLETE, TRUNCATED, CORRUPT, OVERSIZED = MemberState


class Member(NamedTuple):
    """A gzip member that was not decompressed in one call, or whose reading did not end well."""

    state: MemberState
    parts: list[bytes]   #: the pieces of its decompressed output
    total: int           #: its decompressed size
    kept: int            #: the bytes in ``parts`` (at most the reader's ``keep`` plus one piece)


class GzipMembers:
    """The gzip members of ``stream`` (whose first bytes, already read, are ``head``), one at a time.

    Iterating yields ``(first, member, offset, length)`` per member: ``first`` the first piece of
    its decompressed output, ``offset`` and ``length`` its place in the file, and ``member`` None
    when it was decompressed whole in one call (as most members are), else a :class:`Member`
    (``first`` is then ``member.parts[0]``): the output of a huge member is decompressed piece by
    piece and what goes past ``keep`` is dropped. Damaged members and bytes between members are
    counted and skipped.

    ``expected_size(head)`` gives, from the first decompressed bytes of a member, how large its
    output should be (-1 if unknown): it sizes the input slices of members larger than their first
    slice, and a member whose output goes on past that size (and below ``keep``) ends as
    ``OVERSIZED``, the last item: the rest of the file is then read as one stream with :meth:`rest`
    (which also serves a caller that finds more than one record in a member).
    A ``TRUNCATED`` member is the last item too.
    """

    def __init__(self, stream: BinaryIO, head: bytes, stats, expected_size: Callable[[bytes], int],
                 keep: int):
        self.stats = stats
        self.expected_size = expected_size
        self.keep = keep
        self._readinto = reader(stream)
        self._read = stream.read
        self.buf = bytearray(max(READ_SIZE, len(head)))
        self.whole = memoryview(self.buf)
        self.n = len(head)       # valid bytes in buf
        self.buf[:self.n] = head
        self.mv = self.whole[:self.n]   # the valid bytes of buf: slices of it stop at n by themselves
        self.base = 0            # file offset of buf[0]
        self.pos = 0             # next unread byte of buf
        self.at_end = False      # the stream has no more bytes
        self.ratio = 0.3         # compressed bytes per decompressed byte in large members
        self._open = None        # the decompressor of an OVERSIZED member

    def _refill(self) -> None:
        """Move the unread bytes to the front of the buffer and read more behind them."""
        keep = self.n - self.pos
        self.buf[:keep] = self.buf[self.pos:self.n]
        got = self._readinto(self.whole[keep:])
        self.base += self.pos
        self.pos, self.n = 0, keep + got
        self.mv = self.whole[:self.n]
        self.at_end = not got

    def __iter__(self) -> Iterator[tuple[bytes, Member | None, int, int]]:
        buf, keep = self.buf, self.keep
        decompressobj, gzip_error = isal_zlib.decompressobj, isal_zlib.error
        pos, n, mv, base = self.pos, self.n, self.mv, self.base
        garbage = False          # inside a stretch of bytes that is no gzip member
        # Member-end hints: a crawler writes the same 10-byte gzip header on every member, so the
        # next occurrence of the first member's header is where the current member most likely
        # ends. A wrong hint only costs time: the decompressor says where the member really ends.
        # Without stringzilla, or when hints keep missing, FIRST_SLICE and the ratio size the slices.
        header = bytes(buf[:10]) if _SZ_FIND is not None and n >= 10 and buf[3] == 0 else None
        find_header = _stringzilla.Str(buf).find if header is not None else None  # a live view of buf
        hint_tries = hint_misses = 0
        while True:
            if pos + 3 > n:      # refill; keep the last bytes so that a gzip magic is never split
                self.pos = pos
                if not self._refill_or_end(garbage):
                    return
                pos, n, mv, base = self.pos, self.n, self.mv, self.base
            if header is not None:
                hint = find_header(header, pos + 10, n)
                if hint < 0 and pos and not self.at_end:
                    # The next header is not in the buffer yet: move this member to the front and
                    # read on, so that it is still decompressed in one call.
                    self.pos = pos
                    self._refill()
                    pos, n, mv, base = self.pos, self.n, self.mv, self.base
                    hint = find_header(header, 10, n)
                piece = mv[pos:hint] if hint > 0 else mv[pos:]
            else:
                hint = -1
                piece = mv[pos:pos + FIRST_SLICE]
            start = base + pos
            d = decompressobj(31)
            try:
                out = d.decompress(piece, keep)
            except gzip_error:
                pos, garbage = self._skip_damage(pos, n, garbage)
                continue
            garbage = False
            unused = len(d.unused_data) if d.eof else -1   # -1: the member goes on
            if hint > 0:
                hint_tries += 1
                if unused:
                    hint_misses += 1
                    if hint_misses > 32 and hint_misses * 4 > hint_tries:
                        header = None  # this file's members do not share one header
            if unused >= 0:      # the common case: the member ended within the first slice
                pos += len(piece) - unused
                yield out, None, start, base + pos - start
                continue
            self.pos = pos
            member = self._finish(d, out, len(piece) - len(d.unconsumed_tail), start)
            pos, n, mv, base = self.pos, self.n, self.mv, self.base
            if member.state is CORRUPT:
                garbage = True
                continue
            yield out, member, start, base + pos - start
            if member.state is not COMPLETE:
                return

    def _refill_or_end(self, garbage: bool) -> bool:
        """Refill the buffer; False at the end of the stream (counting what is left over as
        garbage unless it is padding or a stretch of garbage is already open)."""
        if not self.at_end:
            self._refill()
        if self.at_end and self.pos + 3 > self.n:
            if not garbage and not _is_padding(self.buf[self.pos:self.n]):
                self.stats["garbage_between_records"] += 1
            return False
        return True

    def _skip_damage(self, pos: int, n: int, garbage: bool) -> tuple[int, bool]:
        """Go on at the next gzip member header after bytes at ``pos`` that do not decompress: a
        corrupt member (counted unreadable), blank or NUL padding, or garbage (counted once per
        stretch). Returns the new position and whether a stretch of garbage is open."""
        buf = self.buf
        if buf.startswith(GZIP_MAGIC, pos):
            self.stats["unreadable_records"] += 1  # a corrupt member
            garbage = True
            pos += 2
        k = buf.find(GZIP_MEMBER, pos, n)
        stop = k if k >= 0 else max(pos, n - 2)
        if not garbage and not _is_padding(buf[pos:stop]):
            self.stats["garbage_between_records"] += 1
            garbage = True
        return stop, garbage

    def _finish(self, d, first: bytes, first_in: int, start: int):
        """Decompress the rest of a member larger than its first slice, in slices as long as the
        rest of the member should take (its expected output times the compression ratio of the
        last large members). Returns the :class:`Member` and leaves ``pos`` past it (or, for a
        corrupt member, where the search for the next one starts)."""
        keep, expected_size = self.keep, self.expected_size
        parts = [first]
        total = kept = len(first)
        expected = expected_size(first)
        p, n, mv = self.pos + first_in, self.n, self.mv
        resumed = False          # the member went on into a newly read buffer
        state = COMPLETE
        while True:
            if p >= n:
                got = 0 if self.at_end else self._readinto(self.whole)
                if not got:
                    self.at_end, state = True, TRUNCATED
                    self.stats["truncated_files"] += 1
                    break
                self.base += n
                n, mv, p, resumed = got, self.whole[:got], 0, True
            if expected > total:
                step = int((expected - total) * self.ratio) + 1024
            else:
                step = 32768 if expected < 0 else 4096
            piece = mv[p:p + step]
            try:
                out = d.decompress(piece)
            except isal_zlib.error:
                state = CORRUPT
                break
            total += len(out)
            if kept < keep:
                parts.append(out)
                kept += len(out)
            if d.eof:
                p += len(piece) - len(d.unused_data)
                break
            p += len(piece)
            if expected < 0:
                expected = expected_size(b"".join(parts[:64]))
            if 0 <= expected < total - 64 and expected < keep:
                state = OVERSIZED  # the member goes on past what its head announced
                self._open = d
                break
        self.n, self.mv = n, mv
        if state is CORRUPT:
            self.stats["unreadable_records"] += 1
            # Look for the next member right after this one's header, unless the bytes there have
            # already left the buffer.
            self.pos = 0 if resumed else self.pos + 2
            return Member(state, parts, total, kept)
        if state is COMPLETE and total > len(first) + 4096:
            # Input per output byte after the first slice: the next large member's estimate.
            self.ratio = (self.base + p - start - first_in) / (total - len(first))
        self.pos = p
        return Member(state, parts, total, kept)

    def rest(self, offset: int) -> Iterator[bytes]:
        """The decompressed bytes of the rest of the file from ``offset`` (the end of the last
        member yielded; for an ``OVERSIZED`` member, where its reading stopped, and the rest of
        that member comes first), as ``gzip -d`` gives them."""
        pos = offset - self.base
        if self.at_end and pos >= self.n:
            if self._open is not None:
                self.stats["truncated_files"] += 1
            return iter(())
        return gunzip_pieces(self.stats, self._open, memoryview(bytes(self.mv[pos:self.n])), self._read)


def gunzip_pieces(stats, d, data: memoryview, read: Callable[[int], bytes]) -> Iterator[bytes]:
    """Decompressed bytes of ``data`` and of the rest of the stream, member after member, as
    ``gzip -d`` gives them; ``d`` is the decompressor of the member ``data`` continues, or None
    when ``data`` starts a new member."""
    carry = b""
    while True:
        pos = 0
        n = len(data)
        while pos < n:
            if d is None:
                if n - pos < 3:
                    carry = bytes(data[pos:])
                    break
                if data[pos] != 0x1F or data[pos + 1] != 0x8B:
                    if not _is_padding(data[pos:]):
                        stats["garbage_between_records"] += 1
                    return  # garbage after the last member ends the stream
                d = isal_zlib.decompressobj(31)
            piece = data[pos:pos + READ_SIZE]
            try:
                out = d.decompress(piece)
            except isal_zlib.error:
                stats["unreadable_records"] += 1
                return
            if out:
                yield out
            if d.eof:
                pos += len(piece) - len(d.unused_data)
                d = None
            else:
                pos += len(piece)
        more = read(READ_SIZE)
        if not more:
            if d is not None:
                stats["truncated_files"] += 1
            elif not _is_padding(carry):
                stats["garbage_between_records"] += 1
            return
        data = memoryview(carry + more) if carry else memoryview(more)
        carry = b""


# --------------------------------------------------------------------------------------------
# A forward-only window over a byte stream


class ByteWindow:
    """A forward-only window over an iterator of byte pieces (a decompressed or uncompressed
    stream): ``buf[pos:]`` are the bytes not read yet, ``offset`` the stream position of ``pos``."""

    def __init__(self, pieces: Iterator[bytes], base: int):
        self.pieces = pieces
        self.buf = b""
        self.pos = 0
        self.base = base  # stream offset of buf[0]
        self.eof = False

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def available(self) -> int:
        return len(self.buf) - self.pos

    def startswith(self, prefix: bytes) -> bool:
        """Whether the unread bytes start with ``prefix``."""
        self.fill(len(prefix))
        return self.buf.startswith(prefix, self.pos)

    def fill(self, n: int) -> bool:
        """Have at least ``n`` bytes after ``pos``; False if the stream ends first."""
        while len(self.buf) - self.pos < n and not self.eof:
            piece = next(self.pieces, None)
            if piece is None:
                self.eof = True
                break
            if piece:
                self.base += self.pos
                self.buf = self.buf[self.pos:] + piece
                self.pos = 0
        return len(self.buf) - self.pos >= n

    def find(self, pattern: bytes, limit: int) -> int:
        """Offset from ``pos`` of ``pattern`` within the next ``limit`` bytes, or -1."""
        searched = 0
        while True:
            i = self.buf.find(pattern, self.pos + max(0, searched - len(pattern) + 1), self.pos + limit)
            if i >= 0:
                return i - self.pos
            searched = self.available()
            if searched >= limit or not self.fill(searched + 1):
                return -1

    def take(self, n: int) -> bytes:
        self.fill(n)
        data = self.buf[self.pos:self.pos + n]
        self.pos += len(data)
        return data

    def peek(self, n: int) -> bytes:
        """Up to ``n`` unread bytes, without taking them."""
        self.fill(n)
        return self.buf[self.pos:self.pos + n]

    def unread(self, data: bytes) -> None:
        """Put ``data``, the last bytes taken, back in front of the unread bytes."""
        self.buf = data + self.buf[self.pos:]
        self.base += self.pos - len(data)
        self.pos = 0

    def skip(self, n: int) -> int:
        """Drop ``n`` bytes without keeping them; the number dropped (fewer at the end)."""
        have = min(n, self.available())
        self.pos += have
        while have < n and not self.eof:
            piece = next(self.pieces, None)
            if piece is None:
                self.eof = True
                break
            self.base += len(self.buf)
            if len(piece) <= n - have:
                have += len(piece)
                self.base += len(piece)
                self.buf, self.pos = b"", 0
            else:
                self.buf, self.pos = piece, n - have
                have = n
        return have

    def skip_blank(self) -> bool:
        """Skip blank lines and NUL padding; False at the end of the stream."""
        while True:
            buf = self.buf
            if self.pos == 0:
                self.pos = len(buf) - len(buf.lstrip(PADDING))
            else:
                p, n = self.pos, len(buf)
                while p < n and buf[p] in PADDING:
                    p += 1
                self.pos = p
            if self.pos < len(buf):
                return True
            if not self.fill(1):
                return False
