"""Domain operations below the API: one module per resource (its queries and multi-step changes).

Routes parse, authorize, call one function here and shape the answer; the web app, the CLI and the
JSON API share these functions, so no rule has a second copy. Pure rules live in `rules/`."""
