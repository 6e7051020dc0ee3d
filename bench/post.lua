-- wrk script: POST one valid JSON decision per request, each for a new
-- WhatsApp number (as in real use: every contact is a new person, and the
-- collector's memory grows per number). load.sh puts the body (with a
-- text version from the archive) into $BODY; its number 0170 1234567 is
-- replaced by 0170 and seven random digits.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local prefix, suffix = os.getenv("BODY"):match('^(.*"phone":"0170 )1234567(".*)$')
assert(prefix, 'BODY must hold "phone":"0170 1234567"')
math.randomseed(os.time() + math.floor(os.clock() * 1e6))
request = function()
  return wrk.format(nil, nil, nil, prefix .. string.format("%07d", math.random(0, 9999999)) .. suffix)
end
