-- wrk script: each request creates a post (POST /api/posts) with a slug no other request
-- of any run uses (SLUG_PREFIX, the thread, a counter).
local prefix = os.getenv("SLUG_PREFIX") or "w"
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local counter = 0

function request()
  counter = counter + 1
  local body = string.format(
    '{"title":"Load %d","slug":"%s-%d-%d","body":"Written by wrk."}',
    counter, prefix, thread_id, counter)
  return wrk.format("POST", "/api/posts", { ["Content-Type"] = "application/json" }, body)
end
