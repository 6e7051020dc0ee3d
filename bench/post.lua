-- wrk script: POST one valid JSON decision per request. load.sh puts the
-- body (with a text version from the archive) into $BODY.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BODY")
