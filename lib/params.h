/*
 * params.h - every configuration parameter, declared once: name, type,
 * default, limits, which workers receive it, and a line of help.  conf.c,
 * `regmaster config --defaults` and regmaster.conf(5) all follow this table.
 *
 * P(id, "name", type, "default", min, max, workers, "help")
 * For lists (CT_LISTEN, CT_PATHLIST) min is the fewest items allowed.
 */
#ifndef RM_PARAMS_H
#define RM_PARAMS_H

#define W_MASTER	(1u << 0)
#define W_HTTPD		(1u << 1)
#define W_STORAGED	(1u << 2)
#define W_AUTHD		(1u << 3)
#define W_TUNNELD	(1u << 4)
#define W_GCD		(1u << 5)
#define W_ALL		0x3fu

#define CONF_PARAMS(P) \
	P(P_RUN_DIR, "run_dir", CT_PATH, "/run/regmaster", 0, 0, W_MASTER, \
	    "directory for the pidfile, the control socket and the empty chroot") \
	P(P_LOG_LEVEL, "log_level", CT_LOGLEVEL, "info", 0, 0, W_ALL, \
	    "error, warning, info or debug") \
	P(P_LOG_FILE, "log_file", CT_OPTPATH, "", 0, 0, W_MASTER, \
	    "file a daemon logs to, time-stamped (empty: syslog)") \
	P(P_LIBEXEC_DIR, "libexec_dir", CT_PATH, PKGLIBEXECDIR, 0, 0, W_MASTER, \
	    "where the worker programs are installed") \
	P(P_W_HTTPD, "workers.httpd", CT_BOOL, "true", 0, 0, W_MASTER, \
	    "run the HTTP front end") \
	P(P_W_STORAGED, "workers.storaged", CT_BOOL, "true", 0, 0, W_MASTER, \
	    "run the content store") \
	P(P_W_AUTHD, "workers.authd", CT_BOOL, "true", 0, 0, W_MASTER, \
	    "run the authentication worker") \
	P(P_W_TUNNELD, "workers.tunneld", CT_BOOL, "false", 0, 0, W_MASTER, \
	    "run the tunnel relay or client") \
	P(P_W_GCD, "workers.gcd", CT_BOOL, "true", 0, 0, W_MASTER, \
	    "run the garbage collector") \
	P(P_U_HTTPD, "users.httpd", CT_USER, "regmaster-httpd", 0, 0, W_MASTER, \
	    "system user httpd runs as when started by root") \
	P(P_U_STORAGED, "users.storaged", CT_USER, "regmaster-storaged", 0, 0, \
	    W_MASTER, "system user storaged runs as; it owns the store") \
	P(P_U_AUTHD, "users.authd", CT_USER, "regmaster-authd", 0, 0, W_MASTER, \
	    "system user authd runs as") \
	P(P_U_TUNNELD, "users.tunneld", CT_USER, "regmaster-tunneld", 0, 0, \
	    W_MASTER, "system user tunneld runs as") \
	P(P_U_GCD, "users.gcd", CT_USER, "regmaster-gcd", 0, 0, W_MASTER, \
	    "system user gcd runs as; reads the store through storaged's group") \
	P(P_HTTP_LISTEN, "http.listen", CT_LISTEN, "127.0.0.1:5000", 1, 0, \
	    W_MASTER, "addresses to accept HTTP on, \"address:port\" or \"[v6]:port\"") \
	P(P_HTTP_TLS_LISTEN, "http.tls_listen", CT_LISTEN, "", 0, 0, W_MASTER, \
	    "addresses to accept HTTPS on (TLS 1.2 and 1.3), like http.listen; " \
	    "needs tls.certificate and tls.key") \
	P(P_HTTP_PROXY_LISTEN, "http.proxy_listen", CT_LISTEN, "", 0, 0, \
	    W_MASTER, "addresses to accept HTTP on from a proxy (the tunnel "\
	    "client): every connection starts with a PROXY protocol v2 header, "\
	    "whose source address is then the client's; like http.listen") \
	P(P_HTTP_MAXCONN, "http.max_connections", CT_INT, "4096", 1, 1000000, \
	    W_HTTPD, "connections open at once") \
	P(P_HTTP_MAXCONN_IP, "http.max_connections_per_address", CT_INT, "512", \
	    1, 1000000, W_HTTPD, "connections open at once from one client address") \
	P(P_HTTP_HEADER_TIMEOUT, "http.header_timeout", CT_INT, "30", 1, 3600, \
	    W_HTTPD, "seconds a client may take to send a request head") \
	P(P_HTTP_IDLE_TIMEOUT, "http.idle_timeout", CT_INT, "120", 1, 86400, \
	    W_HTTPD, "seconds a keep-alive connection may stay idle") \
	P(P_HTTP_BODY_TIMEOUT, "http.body_timeout", CT_INT, "60", 1, 3600, \
	    W_HTTPD, "seconds without progress before a body transfer is abandoned") \
	P(P_HTTP_BODY_MIN_RATE, "http.body_min_rate", CT_INT, "4096", 0, \
	    1000000000, W_HTTPD, "bytes per second a request body must average " \
	    "over body_rate_window, else 408; 0 turns the check off") \
	P(P_HTTP_BODY_RATE_WINDOW, "http.body_rate_window", CT_INT, "30", 1, \
	    3600, W_HTTPD, "seconds over which body_min_rate is averaged") \
	P(P_HTTP_UPLOADS_IP, "http.max_upload_bodies_per_address", CT_INT, "32", \
	    1, 1000000, W_HTTPD, "upload bodies one client address may send at " \
	    "once (storaged takes 256 in all)") \
	P(P_METRICS_LISTEN, "metrics.listen", CT_LISTEN, "127.0.0.1:5001", 0, \
	    0, W_MASTER, "addresses serving Prometheus metrics (/metrics), " \
	    "/healthz and /readyz, never the registry API; empty: off") \
	P(P_STOP_TIMEOUT, "stop_timeout", CT_INT, "10", 0, 3600, W_ALL, \
	    "seconds in-flight requests get to finish on stop") \
	P(P_STORAGE_ROOT, "storage.root", CT_PATH, "/var/lib/regmaster", 0, 0, \
	    W_MASTER | W_STORAGED | W_GCD, "root of the Distribution-layout store") \
	P(P_STORAGE_DELETE, "storage.delete", CT_BOOL, "false", 0, 0, \
	    W_STORAGED | W_HTTPD, "allow DELETE of manifests, tags and blobs") \
	P(P_STORAGE_FSYNC, "storage.fsync", CT_BOOL, "true", 0, 0, W_STORAGED, \
	    "fsync blobs and directories before a commit is acknowledged") \
	P(P_STORAGE_UPLOAD_EXPIRY, "storage.upload_expiry", CT_DURATION, "24h", \
	    1, 366 * 86400, W_STORAGED, \
	    "an upload session idle this long is removed (90s, 15m, 1h, 7d)") \
	P(P_STORAGE_UPLOADS_ADDR, "storage.max_uploads_per_address", CT_INT, \
	    "1000", 1, 1000000, W_STORAGED, \
	    "upload sessions one client address may have open at once") \
	P(P_STORAGE_UPLOADS_REPO, "storage.max_uploads_per_repository", CT_INT, \
	    "1000", 1, 1000000, W_STORAGED, \
	    "upload sessions open at once in one repository") \
	P(P_AUTH_DIR, "auth.dir", CT_PATH, SYSCONFDIR "/regmaster", 0, 0, \
	    W_MASTER | W_AUTHD, "directory with password and key files; authd's chroot") \
	P(P_AUTH_HTPASSWD, "auth.htpasswd", CT_OPTPATH, "", 0, 0, \
	    W_MASTER | W_AUTHD | W_HTTPD, "htpasswd file of bcrypt entries " \
	    "inside auth.dir (htpasswd -B); empty: no authentication") \
	P(P_AUTH_TOKEN, "auth.token", CT_BOOL, "false", 0, 0, W_HTTPD | W_AUTHD, \
	    "announce Docker token auth (Bearer) and serve /token") \
	P(P_AUTH_REALM, "auth.realm", CT_STR, "regmaster", 0, 0, W_HTTPD, \
	    "the realm of Basic challenges") \
	P(P_AUTH_TOKEN_REALM, "auth.token_realm", CT_STR, "", 0, 0, W_HTTPD, \
	    "URL clients get tokens from (empty: /token on the address they " \
	    "asked)") \
	P(P_AUTH_SERVICE, "auth.service", CT_STR, "regmaster", 0, 0, \
	    W_HTTPD | W_AUTHD, "the service name tokens are issued for (aud)") \
	P(P_AUTH_ISSUER, "auth.issuer", CT_STR, "regmaster", 0, 0, \
	    W_HTTPD | W_AUTHD, "the issuer tokens name (iss)") \
	P(P_AUTH_TOKEN_TTL, "auth.token_ttl", CT_DURATION, "5m", 60, 86400, \
	    W_AUTHD, "how long an issued token is valid") \
	P(P_AUTH_CACHE_TTL, "auth.cache_ttl", CT_DURATION, "60s", 0, 3600, \
	    W_AUTHD | W_HTTPD, "how long a successful password check is " \
	    "remembered (0: bcrypt on every request)") \
	P(P_AUTH_MAX_FAILURES, "auth.max_failures", CT_INT, "10", 1, 1000000, \
	    W_AUTHD, "failed logins from one address, or for one user, " \
	    "within auth.failure_window before 429") \
	P(P_AUTH_FAILURE_WINDOW, "auth.failure_window", CT_DURATION, "1m", 1, \
	    86400, W_AUTHD, "the window auth.max_failures counts over") \
	P(P_AUTH_RULES, "auth.rules", CT_RULES, "", 0, 0, W_AUTHD, \
	    "access rules: a list of { who; repo; allow; } groups; none: " \
	    "authenticated users may do everything") \
	P(P_AUTH_GROUPS, "auth.groups", CT_RULES, "", 0, 0, W_AUTHD, \
	    "groups rules may name as @NAME: a list of { name; members; } " \
	    "groups, members separated by commas or spaces") \
	P(P_TLS_CERTIFICATE, "tls.certificate", CT_PATHLIST, "", 0, 0, \
	    W_MASTER, "PEM certificate chain (fullchain.pem), or a list of " \
	    "them for SNI") \
	P(P_TLS_KEY, "tls.key", CT_PATHLIST, "", 0, 0, W_MASTER, \
	    "PEM private key (privkey.pem) of each tls.certificate, in order") \
	P(P_TLS_CLIENT_CA, "tls.client_ca", CT_OPTPATH, "", 0, 0, W_MASTER, \
	    "PEM CA bundle: clients with a certificate it verifies are the " \
	    "user the certificate names (empty: no client certificates)") \
	P(P_TLS_CLIENT_CRL, "tls.client_crl", CT_OPTPATH, "", 0, 0, W_MASTER, \
	    "PEM certificate revocation lists of the client CAs: a revoked " \
	    "client certificate fails the handshake") \
	P(P_TLS_TICKET_ROTATE, "tls.ticket_rotate", CT_DURATION, "1h", 60, \
	    86400, W_HTTPD, "how often the in-memory session ticket key is " \
	    "replaced (tickets stay valid for twice this)") \
	P(P_AUDIT_FILE, "audit.file", CT_OPTPATH, "", 0, 0, W_MASTER | W_HTTPD, \
	    "file of JSON audit lines (empty: no audit log)") \
	P(P_TUNNEL_RELAY_LISTEN, "tunnel.relay.listen", CT_LISTEN, "", 0, 0, \
	    W_MASTER, "addresses a relay accepts tunnel clients on (TLS); " \
	    "set: this host is a relay") \
	P(P_TUNNEL_RELAY_TOKEN, "tunnel.relay.token", CT_STR, "", 0, 0, \
	    W_MASTER | W_TUNNELD, "the secret tunnel clients prove (HMAC over " \
	    "a challenge; it never crosses the wire)") \
	P(P_TUNNEL_RELAY_PORTS, "tunnel.relay.ports", CT_PORTS, "5000-5100", 0, \
	    0, W_MASTER | W_TUNNELD, "public ports clients may claim: " \
	    "\"LOW-HIGH\" or single ports, separated by commas") \
	P(P_TUNNEL_RELAY_BIND, "tunnel.relay.bind_address", CT_STR, "0.0.0.0", \
	    0, 0, W_MASTER, "address the public ports are opened on " \
	    "(\"0.0.0.0\", \"::\", or one address)") \
	P(P_TUNNEL_RELAY_VISITORS_ADDR, "tunnel.relay.visitors_per_address", \
	    CT_INT, "256", 0, 1000000, W_TUNNELD, "visitor connections open at " \
	    "once from one source address (an IPv6 one by its /64); more are " \
	    "closed at once; 0: no limit") \
	P(P_TUNNEL_RELAY_STATUS_LISTEN, "tunnel.relay.status_listen", CT_LISTEN, \
	    "", 0, 0, W_MASTER, "addresses of the relay's status page (HTML at " \
	    "/, JSON at /status.json); needs status credentials") \
	P(P_TUNNEL_RELAY_STATUS_USER, "tunnel.relay.status_user", CT_STR, "", 0, \
	    0, W_MASTER | W_TUNNELD, "user name of the status page's Basic " \
	    "auth, with status_password") \
	P(P_TUNNEL_RELAY_STATUS_PASSWORD, "tunnel.relay.status_password", CT_STR, \
	    "", 0, 0, W_MASTER | W_TUNNELD, "bcrypt hash (htpasswd -nB) of the " \
	    "status page's password (never a clear password, no default)") \
	P(P_TUNNEL_RELAY_STATUS_HTPASSWD, "tunnel.relay.status_htpasswd", \
	    CT_OPTPATH, "", 0, 0, W_MASTER | W_TUNNELD, "htpasswd file of the " \
	    "status page's users, instead of status_user and status_password") \
	P(P_TUNNEL_CLIENT_RELAY, "tunnel.client.relay", CT_STR, "", 0, 0, \
	    W_MASTER | W_TUNNELD, "\"host:port\" of the relay to dial; set: " \
	    "this host is a tunnel client") \
	P(P_TUNNEL_CLIENT_TOKEN, "tunnel.client.token", CT_STR, "", 0, 0, \
	    W_MASTER | W_TUNNELD, "the relay's tunnel.relay.token") \
	P(P_TUNNEL_CLIENT_CA, "tunnel.client.ca", CT_OPTPATH, "", 0, 0, \
	    W_MASTER | W_TUNNELD, "PEM CA bundle that verifies the relay's certificate " \
	    "(and its name)") \
	P(P_TUNNEL_CLIENT_FINGERPRINT, "tunnel.client.fingerprint", CT_STR, "", \
	    0, 0, W_MASTER | W_TUNNELD, "\"sha256:HEX\" of the relay's " \
	    "certificate, pinned (the relay logs it at start)") \
	P(P_TUNNEL_CLIENT_INSECURE, "tunnel.client.insecure", CT_BOOL, "false", \
	    0, 0, W_MASTER | W_TUNNELD, "accept any relay certificate (testing " \
	    "only: logged loudly)") \
	P(P_TUNNEL_CLIENT_POOL, "tunnel.client.pool", CT_INT, "2", 1, 16, \
	    W_TUNNELD, "tunnel connections this client keeps to the relay") \
	P(P_TUNNEL_CLIENT_NAME, "tunnel.client.name", CT_STR, "", 0, 0, \
	    W_TUNNELD, "the name this client shows on the relay (empty: the " \
	    "host name)") \
	P(P_TUNNEL_CLIENT_PROXIES, "tunnel.client.proxies", CT_RULES, "", 0, 0, \
	    W_MASTER | W_TUNNELD, "services published through the relay: a " \
	    "list of { name; local; remote_port; group; weight; compression; " \
	    "proxy_protocol; health; } groups") \
	P(P_GC_INTERVAL, "gc.interval", CT_DURATION, "24h", 0, 366 * 86400, \
	    W_GCD, "time between scheduled collections (0s: only on demand, " \
	    "regmaster gc)") \
	P(P_GC_GRACE, "gc.grace", CT_DURATION, "1h", 0, 366 * 86400, \
	    W_STORAGED | W_GCD, "a blob or untagged manifest younger than this " \
	    "is never swept (covers a push between its blobs and its manifest)") \
	P(P_GC_UPLOAD_MAX_AGE, "gc.upload_max_age", CT_DURATION, "24h", 60, \
	    366 * 86400, W_GCD, "a collection removes upload sessions idle " \
	    "longer than this") \
	P(P_GC_UNTAGGED, "gc.untagged", CT_BOOL, "false", 0, 0, W_GCD, \
	    "a collection deletes manifests no tag reaches (through an index " \
	    "or as a referrer), once older than gc.grace") \
	P(P_RETENTION, "retention", CT_RULES, "", 0, 0, W_GCD, \
	    "retention policies applied by each collection, first matching " \
	    "repo wins: a list of { repo; keep_last; keep; max_age; " \
	    "untagged_max_age; } groups") \
	P(P_CACHE_UPSTREAMS, "cache.upstreams", CT_RULES, "", 0, 0, \
	    W_MASTER | W_HTTPD | W_STORAGED | W_GCD, "registries this host caches (pull-through): " \
	    "a list of { prefix; url; username; password; ca; ttl; mirror; } " \
	    "groups; a name PREFIX + NAME is fetched as NAME (prefix \"\": " \
	    "every name)") \
	P(P_CACHE_MAX_SIZE, "cache.max_size", CT_SIZE, "0", 0, 0, \
	    W_STORAGED | W_GCD, "size the cached repositories may hold " \
	    "(shared blobs once); gc evicts the least recently pulled " \
	    "images above it (\"50G\"; 0: no limit)") \
	P(P_CACHE_PULL_INTERVAL, "cache.pull_interval", CT_DURATION, "1m", 1, \
	    3600, W_STORAGED, "how often storaged writes the last pull times " \
	    "of cached manifests to the store (what a crash can lose)") \
	P(P_CACHE_PUSH, "cache.push", CT_PUSHMODE, "refuse", 0, 0, W_HTTPD, \
	    "a push to a cached name: \"refuse\" (403 DENIED) or \"forward\" " \
	    "(to its upstream)") \
	P(P_SANDBOX_SECCOMP, "sandbox.seccomp", CT_BOOL, "true", 0, 0, \
	    W_HTTPD | W_STORAGED | W_AUTHD | W_TUNNELD | W_GCD, \
	    "confine each worker to its seccomp allow-list (off: for debugging)")

#endif
