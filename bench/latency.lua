-- wrk reporter for bench/run: one line with p50, p90 and p99 in milliseconds
-- and the count of failed requests (connection errors, timeouts, non-2xx).
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("LATENCY %.2f %.2f %.2f %d\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    errors.status + errors.connect + errors.read + errors.write + errors.timeout))
end
