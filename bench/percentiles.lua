-- wrk reporter: one line with requests/s and the latency percentiles the
-- search targets name (p50, p95) plus p99.
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests/s=%.0f p50=%.1fms p95=%.1fms p99=%.1fms errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
