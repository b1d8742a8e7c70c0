-- wrk script for bench/clicks.py: count responses per status code, and keep each redirect's token.
--
-- wrk runs one Lua state per thread, so each thread counts into its own globals; done() runs in the
-- main state and sums them through thread:get(). It prints one line, "BENCH_RESULT {json}", that
-- clicks.py parses instead of wrk's human-readable report.
--
-- The atk= token of every 302 is kept too (written one per line to $BENCH_TOKENS, when set): it
-- carries the click id, so clicks.py can match served clicks against stored ones exactly, instead of
-- only comparing totals (requests still in flight when wrk stops are served by the app but never
-- counted by wrk).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  tokens = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 302 then
    local location = headers["Location"] or headers["location"] or ""
    local token = string.match(location, "[?&]atk=([^&#]+)")
    if token then
      tokens[#tokens + 1] = token
    end
  end
end

local function sum_statuses()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  return total
end

local function write_tokens(path)
  local out = assert(io.open(path, "w"))
  for _, thread in ipairs(threads) do
    for _, token in ipairs(thread:get("tokens")) do
      out:write(token, "\n")
    end
  end
  out:close()
end

function done(summary, latency, requests)
  local parts = {}
  for status, count in pairs(sum_statuses()) do
    parts[#parts + 1] = string.format('"%d": %d', status, count)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "statuses": {%s}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, table.concat(parts, ", "),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
  local path = os.getenv("BENCH_TOKENS")
  if path and path ~= "" then
    write_tokens(path)
  end
end
