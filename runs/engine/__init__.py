"""The orchestration engine: pure Python and asyncio. Nothing in this package imports Django,
Channels or Celery; the shell passes everything in (see ``interfaces``)."""
