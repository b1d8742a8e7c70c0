-- wrk script for bench/conversions.py: server-to-server conversion posts, each with its own order id.
--
-- BENCH_MODE=token attributes by click token (one of the signed tokens in $BENCH_TOKENS, one per
-- line); BENCH_MODE=customer by a colleague's email at one of the seeded companies. Responses are
-- counted per status and printed as one "BENCH_RESULT {json}" line for conversions.py.

local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  statuses = {}
  tokens = {}
  mode = os.getenv("BENCH_MODE")
  companies = tonumber(os.getenv("BENCH_COMPANIES"))
  key = os.getenv("BENCH_KEY")
  run = os.getenv("BENCH_RUN")
  local file = io.open(os.getenv("BENCH_TOKENS"))
  for line in file:lines() do tokens[#tokens + 1] = line end
  file:close()
end

function request()
  counter = counter + 1
  local order = run .. "-" .. thread_number .. "-" .. counter
  local carrier
  if mode == "token" then
    carrier = string.format('"token":"%s"', tokens[(counter % #tokens) + 1])
  else
    carrier = string.format('"customer":{"email":"buyer%d@company%d.example"}', counter, counter % companies)
  end
  local body = string.format(
    '{"offer":"demo-crm","event":"sale","order_id":"%s","amount":"99.90","currency":"EUR",%s}', order, carrier)
  return wrk.format("POST", "/api/v1/conversions",
                    {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[tostring(status)] = (total[tostring(status)] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do parts[#parts + 1] = string.format('"%s": %d', status, count) end
  io.write(string.format('BENCH_RESULT {"requests": %d, "duration_us": %d, "statuses": {%s}, ' ..
    '"latency_us": {"p50": %d, "p99": %d, "max": %d}}\n', summary.requests, summary.duration,
    table.concat(parts, ", "), latency:percentile(50), latency:percentile(99), latency.max))
end
