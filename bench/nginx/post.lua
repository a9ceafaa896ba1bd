-- wrk script of bench/deliver: POST the body in $BENCH_BODY_FILE with
-- the headers a ferry webhook carries, of the same lengths (fixed values:
-- nginx checks none of them).
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["terra-signature"] = "t=1764849600,v1=" .. string.rep("0", 64)
wrk.headers["terra-reference"] = "00000000-0000-4000-8000-000000000000"
wrk.headers["ferry-event-id"] = "00000000-0000-4000-8000-000000000000"
wrk.headers["User-Agent"] = "wrk/bench-deliver"
wrk.headers["Accept"] = "*/*"
