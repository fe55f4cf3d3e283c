"""Reading iPoint where it lives: FileMaker Server's Data API, and FileMaker's export files.

``settings`` owns the ``[filemaker:NAME]`` sections; ``mapping`` turns one FileMaker record into
the raw ingest record every ingest path validates; ``exports`` reads Merge (.mer), CSV and tab
exports. The connector builds on these: ``client`` (the one Data API wrapper), ``poller`` (one
source's reads: changes, hinted keys, deletions), ``state`` (its kept position), ``status`` (what
it did, for the admin page and probes), ``service`` (its loop inside ``serve``) and ``sources``
(settings to running parts).
"""
