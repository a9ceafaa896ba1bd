-- widget_session.lua - wrk script: POST /v2/auth/generateWidgetSession
-- with a small JSON body. bench/run passes the credentials in the
-- environment as BENCH_DEV_ID and BENCH_API_KEY. Answers other than
-- 2xx/3xx show up in wrk's "Non-2xx or 3xx responses" line, which
-- bench/run checks; no response() hook, so wrk stays on its fast path.

wrk.method = "POST"
wrk.body = '{"reference_id":"bench-user","providers":"SANDBOX",' ..
           '"language":"en"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["dev-id"] = os.getenv("BENCH_DEV_ID")
wrk.headers["x-api-key"] = os.getenv("BENCH_API_KEY")
