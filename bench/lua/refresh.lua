-- Rotates refresh tokens: each answer's new token joins the queue the
-- next requests take theirs from (the file named by TOKENS seeds it).
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end

request = function()
  local token = table.remove(tokens, 1)
  local body = '{"refresh_token":"' .. token .. '"}'
  return wrk.format("POST", "/v1/auth/refresh", {["Content-Type"] = "application/json"}, body)
end

response = function(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then tokens[#tokens + 1] = token end
end
