#pragma once
// The seam between the HTTP listener's routes (http_api.hpp, owned by the HTTP API) and the
// web console (its assets and, optionally, its own login), so that either side builds and
// links without the other. The console registers itself before the listener starts; with
// nothing registered, GET /console/... answers 404 "console assets not built".
//
// Routes the listener gives the console:
//   GET /            302 to /console/
//   GET /console     302 to /console/
//   GET /console/P   find_console_asset(P) (P percent-decoded, "" for the index), 200 with its
//                    content type and body; 404 when it returns nullptr. Requires the same
//                    authentication as /api/* (HttpApi::authenticate).
// Anything the console handler (set_console_handler) answers is answered before any of that
// and before authentication: that is where a login form (GET /console/login, POST
// /api/login setting a cookie) goes; set_console_authenticator then lets the cookie count as
// authentication for every protected route.
//
// Threads: the set_* calls happen once, before the listener starts (REQUIRES); the lookups
// are then read-only and run on any connection thread.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kafka/http.hpp"

namespace freshet::server {

struct StaticAsset {
  std::string_view content_type;  // "text/html; charset=utf-8", "application/javascript", ...
  std::string_view body;          // static storage (compiled in)
};

// path: the part after "/console/", "" for the console's index. nullptr: not an asset.
using ConsoleAssetLookup = const StaticAsset* (*)(std::string_view path);
void set_console_assets(ConsoleAssetLookup lookup);
bool console_assets_registered();
const StaticAsset* find_console_asset(std::string_view path);

// A user name when the request carries the console's own proof of a login (a session cookie),
// nullopt otherwise (Basic auth is then checked).
using ConsoleAuthenticator = std::function<std::optional<std::string>(const kafka::HttpRequest&)>;
void set_console_authenticator(ConsoleAuthenticator authenticator);

// Asked first for every request (before authentication); nullopt passes it on.
void set_console_handler(kafka::HttpHandler handler);

}  // namespace freshet::server
