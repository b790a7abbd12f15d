"""The extract stage: WARC records, FAQPage markup, cleaning and language ID, page by page."""
