-- p2pl.lua - let mpv play p2pl: URIs, as in  mpv 'p2pl:...?peer=...'
--
-- Install: copy (or link) into ~/.config/mpv/scripts/, or run
--   mpv --script=/usr/local/share/p2pl/mpv/p2pl.lua 'p2pl:...'
--
-- When mpv is asked to open a p2pl: URI, this script starts
--   p2pl-fetch [args] URI
-- with its standard output on a FIFO in a fresh private directory and
-- has mpv read that FIFO, with the cache off.  p2pl-fetch is stopped, and
-- the directory removed, when the file ends or mpv quits.
--
-- Options (--script-opts=p2pl-fetch=...,p2pl-args=..., or
-- ~/.config/mpv/script-opts/p2pl.conf):
--   fetch  the p2pl-fetch program (default: p2pl-fetch, from PATH)
--   args   more arguments for it, split at blanks (e.g. "--latency 0.5")

local mp = require 'mp'
local msg = require 'mp.msg'
local options = require 'mp.options'

local opts = { fetch = "p2pl-fetch", args = "" }
options.read_options(opts, "p2pl")

local job, dir, fifo

-- Run a short command to its end; its stdout, or nil if it failed.
local function run(args)
	local r = mp.command_native({ name = "subprocess", args = args,
	    capture_stdout = true, playback_only = false })
	if r == nil or r.status ~= 0 then
		return nil
	end
	return r.stdout
end

local function cleanup()
	if job ~= nil then
		mp.abort_async_command(job)
		job = nil
	end
	if fifo ~= nil then
		os.remove(fifo)
		fifo = nil
	end
	if dir ~= nil then
		os.remove(dir)
		dir = nil
	end
end

local function open(uri)
	local out = run({ "mktemp", "-d", "-t", "p2pl-mpv.XXXXXX" })
	if out == nil then
		msg.error("cannot make a temporary directory")
		return
	end
	dir = out:gsub("%s+$", "")
	fifo = dir .. "/stream"
	if run({ "mkfifo", "-m", "600", fifo }) == nil then
		msg.error("cannot make a FIFO in " .. dir)
		cleanup()
		return
	end
	-- the shell only redirects: the FIFO and every argument are passed
	-- as arguments, never parsed
	local args = { "sh", "-c", 'f=$1; shift; exec "$@" >"$f"', "sh",
	    fifo, opts.fetch }
	for word in opts.args:gmatch("%S+") do
		args[#args + 1] = word
	end
	args[#args + 1] = uri
	job = mp.command_native_async({ name = "subprocess", args = args,
	    playback_only = false }, function(ok, r)
		if r ~= nil and r.status ~= nil and r.status ~= 0 and
		    not r.killed_by_us then
			msg.error(opts.fetch .. " exited with status " ..
			    tostring(r.status))
		end
	end)
	-- a live stream: play what comes, do not buffer ahead
	mp.set_property("file-local-options/cache", "no")
	mp.set_property("file-local-options/force-media-title", uri)
	mp.set_property("stream-open-filename", fifo)
end

mp.add_hook("on_load", 10, function()
	local uri = mp.get_property("stream-open-filename", "")
	if uri:sub(1, 5) == "p2pl:" then
		cleanup()
		open(uri)
	end
end)
-- p2pl-fetch gave nothing (a bad URI, say): remove the FIFO before other
-- on_load_fail hooks (ytdl_hook's) make mpv open it again and wait
mp.add_hook("on_load_fail", 5, function()
	if fifo ~= nil and mp.get_property("stream-open-filename") == fifo then
		cleanup()
	end
end)
mp.register_event("end-file", cleanup)
mp.register_event("shutdown", cleanup)
