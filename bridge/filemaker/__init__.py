"""Reading iPoint where it lives: FileMaker Server's Data API, and FileMaker's export files.

``settings`` owns the ``[filemaker:NAME]`` sections; ``mapping`` turns one FileMaker record into
the raw ingest record every ingest path validates; ``exports`` reads Merge (.mer), CSV and tab
exports. The connector (poller, deletions, webhook) builds on these.
"""
