-- wrk script: POST signed orders/create webhooks, each with its own webhook id.
--
--   wrk -s bench/orders.lua URL -- BODIES RUN
--
-- BODIES holds one "signature body" line per order (written by bench/ingest.py,
-- which signs them: HMAC-SHA256 is not in wrk's Lua). Requests cycle through
-- them; the webhook id "RUN-THREAD-N" is unique per request and per run, so
-- the app never answers a duplicate. done() prints the figures as one JSON line.

local bodies = {}
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local signature, body = line:match("^(%S+) (.*)$")
    bodies[#bodies + 1] = { signature, body }
  end
  file:close()
  run = args[2]
  counter = thread_number * 7919  -- threads start on different orders
end

function request()
  counter = counter + 1
  local item = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Shopify-Topic"] = "orders/create",
    ["X-Shopify-Hmac-Sha256"] = item[1],
    ["X-Shopify-Shop-Domain"] = "bench-shop.myshopify.com",
    ["X-Shopify-Webhook-Id"] = run .. "-" .. thread_number .. "-" .. counter,
  }, item[2])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
