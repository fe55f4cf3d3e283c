"""Reading iPoint from FileMaker Server's Data API: the client (``client``), each source's
poller (``poller``), its kept position (``state``), what it did (``status``) and the service
that runs the sources inside ``serve`` (``service``)."""
