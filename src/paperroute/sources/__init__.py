"""Sources of papers. Each module holds a pure parser (bytes in, records out) and, for network
sources, a thin client built on :mod:`paperroute.sources.http`.

The parser contract: ``parse_*(data: bytes, ...) -> Iterator[PaperRecord | RecordError]``.
A parser never raises for bad input inside a document: a bad record is yielded as a
RecordError naming it and the reason, and the rest of the document is still parsed. A
document that cannot be read at all (not XML, an entity bomb, an OAI-PMH error response)
yields a single RecordError whose source_key names the document. Records are built with
:func:`paperroute.sources.common.build_record`, which validates and normalises them.
"""
