-- Signs in as the users listed in the file named by LOGINS, one after
-- another, each with the password in PASSWORD.
local logins = {}
local next_login = 1
local password = os.getenv("PASSWORD")
for line in io.lines(os.getenv("LOGINS")) do logins[#logins + 1] = line end

request = function()
  local login = logins[next_login]
  next_login = next_login % #logins + 1
  local body = '{"login":"' .. login .. '","password":"' .. password .. '"}'
  return wrk.format("POST", "/v1/auth/login", {["Content-Type"] = "application/json"}, body)
end
