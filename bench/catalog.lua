-- wrk script: one catalog page (20 products with the viewer's price) as a signed-in user.
-- TOKEN and HOST come from the environment (bench/catalog.sh sets them).
wrk.method = "POST"
wrk.body = '{"query":"{ products(first: 20) { edges { node { id sku name brand price { amount { amount currency } source priceList } listPrice { amount currency } } } } }"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Host"] = os.getenv("HOST") or "northwind.localhost"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")

local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d errors=%d non200=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, bad))
end
