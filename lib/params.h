/*
 * params.h - every configuration parameter, declared once: name, type,
 * default, limits, which workers receive it, and a line of help.  conf.c,
 * `regmaster config --defaults` and regmaster.conf(5) all follow this table.
 *
 * P(id, "name", type, "default", min, max, workers, "help")
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
	P(P_HTTP_LISTEN, "http.listen", CT_LISTEN, "127.0.0.1:5000", 0, 0, \
	    W_MASTER, "addresses to accept HTTP on, \"address:port\" or \"[v6]:port\"") \
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
	P(P_SANDBOX_SECCOMP, "sandbox.seccomp", CT_BOOL, "true", 0, 0, \
	    W_HTTPD | W_STORAGED | W_AUTHD | W_TUNNELD | W_GCD, \
	    "confine each worker to its seccomp allow-list (off: for debugging)")

#endif
