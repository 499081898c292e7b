"""Raw records -> OCSF events: one pure mapper per source format."""
