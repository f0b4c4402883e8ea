# tests/: unit tests (check) and integration suites (shell, real clients).
if HAVE_CHECK
UNIT_TESTS = tests/unit/test_msg tests/unit/test_conf tests/unit/test_http \
	tests/unit/test_digest tests/unit/test_oci tests/unit/test_sandbox
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif
UNIT_LDADD = $(REGMASTER_LIBS) $(CHECK_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_msg_SOURCES = tests/unit/test_msg.c
tests_unit_test_msg_LDADD = $(UNIT_LDADD)
tests_unit_test_msg_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_LDADD = $(UNIT_LDADD)
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_LDADD = $(UNIT_LDADD)
tests_unit_test_http_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_digest_SOURCES = tests/unit/test_digest.c
tests_unit_test_digest_LDADD = $(UNIT_LDADD)
tests_unit_test_digest_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_oci_SOURCES = tests/unit/test_oci.c
tests_unit_test_oci_LDADD = $(UNIT_LDADD)
tests_unit_test_oci_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sandbox_SOURCES = tests/unit/test_sandbox.c
tests_unit_test_sandbox_LDADD = $(UNIT_LDADD)
tests_unit_test_sandbox_CFLAGS = $(UNIT_CFLAGS)

INTEGRATION_TESTS = tests/integration/test_supervisor.sh \
	tests/integration/test_interop.sh \
	tests/integration/test_limits.sh \
	tests/integration/test_resilience.sh \
	tests/integration/test_api.sh \
	tests/integration/test_clients.sh \
	tests/integration/test_hardening_master.sh \
	tests/integration/test_uploads.sh \
	tests/integration/test_sandbox.sh \
	tests/integration/test_storaged_load.sh
FUZZ_TESTS = tests/fuzz/run.sh
TESTS += $(INTEGRATION_TESTS) $(FUZZ_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/lib.sh tests/unit/unit.h \
	tests/integration/mkimages.sh tests/integration/.shellcheckrc \
	tests/integration/limits_clients.py \
	tests/check.sh tests/fuzz/run.sh tests/fuzz/lsan.supp \
	tests/fuzz/fuzz_conf.c tests/fuzz/fuzz_http.c tests/fuzz/fuzz_manifest.c \
	tests/fuzz/fuzz_msg.c tests/fuzz/fuzz_store.c tests/fuzz/fuzz_jwt.c \
	tests/fuzz/fuzz_htpasswd.c tests/fuzz/fuzz_rules.c tests/fuzz/fuzz_retention.c tests/fuzz/fuzz_cache_route.c tests/fuzz/fuzz_wwwauth.c tests/fuzz/fuzz_fwdmap.c \
	tests/fuzz/corpus
AM_TESTS_ENVIRONMENT = top_builddir=$(abs_top_builddir); \
	top_srcdir=$(abs_top_srcdir); export top_builddir top_srcdir;
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)

# the admin verbs: user, cert and what check says about their files
INTEGRATION_TESTS += tests/integration/test_cli_auth.sh
# the pull-through cache (issue 11)
INTEGRATION_TESTS += tests/integration/test_cache.sh
# an edge forwarding pushes to its upstream (cache.push = forward)
INTEGRATION_TESTS += tests/integration/test_cache_forward.sh
# the cache as dockerd's registry-mirrors (a stand-in Docker Hub)
INTEGRATION_TESTS += tests/integration/test_cache_mirror.sh
# edges and the main registry behind one relay group (issues 9 and 11 together)
INTEGRATION_TESTS += tests/integration/test_edge_tunnel.sh

# storaged: its pure parts linked into a unit test, and the real worker driven
# over socketpairs as httpd and master would.
if HAVE_CHECK
STORAGED_TESTS = tests/unit/test_store tests/unit/test_storaged_proto \
	tests/unit/test_pulls
check_PROGRAMS += $(STORAGED_TESTS)
TESTS += $(STORAGED_TESTS)
endif
tests_unit_test_store_SOURCES = tests/unit/test_store.c $(STORAGED_CORE)
tests_unit_test_store_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/storaged
tests_unit_test_store_LDADD = $(UNIT_LDADD)
tests_unit_test_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pulls_SOURCES = tests/unit/test_pulls.c $(STORAGED_CORE)
tests_unit_test_pulls_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/storaged
tests_unit_test_pulls_LDADD = $(UNIT_LDADD)
tests_unit_test_pulls_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_storaged_proto_SOURCES = tests/unit/test_storaged_proto.c \
	tests/unit/worker_driver.c tests/unit/worker_driver.h
tests_unit_test_storaged_proto_LDADD = $(UNIT_LDADD)
tests_unit_test_storaged_proto_CFLAGS = $(UNIT_CFLAGS)

# test_hardening_master.sh's racer: a compromised storaged swapping a store
# directory with a symlink while master walks the store.
check_PROGRAMS += tests/integration/racer
tests_integration_racer_SOURCES = tests/integration/racer.c

# lib/'s auth pieces: base64, JWTs, htpasswd files and access rules.
if HAVE_CHECK
AUTHLIB_TESTS = tests/unit/test_b64 tests/unit/test_htpasswd tests/unit/test_jwt \
	tests/unit/test_acl
check_PROGRAMS += $(AUTHLIB_TESTS)
TESTS += $(AUTHLIB_TESTS)
endif
tests_unit_test_b64_SOURCES = tests/unit/test_b64.c
tests_unit_test_b64_LDADD = $(UNIT_LDADD)
tests_unit_test_b64_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_htpasswd_SOURCES = tests/unit/test_htpasswd.c
tests_unit_test_htpasswd_LDADD = $(UNIT_LDADD)
tests_unit_test_htpasswd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_jwt_SOURCES = tests/unit/test_jwt.c
tests_unit_test_jwt_LDADD = $(UNIT_LDADD)
tests_unit_test_jwt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_acl_SOURCES = tests/unit/test_acl.c
tests_unit_test_acl_LDADD = $(UNIT_LDADD)
tests_unit_test_acl_CFLAGS = $(UNIT_CFLAGS)

# lib/audit.c: the audit log's JSON lines.
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_audit
TESTS += tests/unit/test_audit
endif
tests_unit_test_audit_SOURCES = tests/unit/test_audit.c
tests_unit_test_audit_LDADD = $(UNIT_LDADD)
tests_unit_test_audit_CFLAGS = $(UNIT_CFLAGS)

# httpd's side of users and access: the Authorization header parser, and the
# gate, /token and the audit records with the real regmaster.
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_authhdr
TESTS += tests/unit/test_authhdr
endif
tests_unit_test_authhdr_SOURCES = tests/unit/test_authhdr.c
tests_unit_test_authhdr_LDADD = $(UNIT_LDADD)
tests_unit_test_authhdr_CFLAGS = $(UNIT_CFLAGS)
EXTRA_DIST += tests/fuzz/fuzz_authhdr.c

# authd: the real worker driven over socketpairs as master and httpd would.
if HAVE_CHECK
AUTHD_TESTS = tests/unit/test_authd_proto
check_PROGRAMS += $(AUTHD_TESTS)
TESTS += $(AUTHD_TESTS)
endif
tests_unit_test_authd_proto_SOURCES = tests/unit/test_authd_proto.c \
	tests/unit/worker_driver.c tests/unit/worker_driver.h
tests_unit_test_authd_proto_LDADD = $(UNIT_LDADD)
tests_unit_test_authd_proto_CFLAGS = $(UNIT_CFLAGS)

# master's side of the audit log: audit.file opened, handed to authd, reopened on reload
INTEGRATION_TESTS += tests/integration/test_audit_file.sh

# TLS (issue 7): certificates, SNI, resumption, client certificates, reload in
# flight, the key kept out of httpd
INTEGRATION_TESTS += tests/integration/test_tls.sh

INTEGRATION_TESTS += tests/integration/test_auth.sh

# issue 7: skopeo, podman, ctr and dockerd over TLS (the suite's CA) with Basic and
# with token auth
INTEGRATION_TESTS += tests/integration/test_clients_tls.sh

# authd/pss.c: the only raw RSA inputs authd's key holder signs are PSS
# encodings (no decryption oracle for httpd)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_pss
TESTS += tests/unit/test_pss
endif
tests_unit_test_pss_SOURCES = tests/unit/test_pss.c authd/pss.c authd/pss.h
tests_unit_test_pss_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/authd
tests_unit_test_pss_LDADD = $(UNIT_LDADD)
tests_unit_test_pss_CFLAGS = $(UNIT_CFLAGS)

# lib/tframe.c: the tunnel's frame codec.
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_tframe
TESTS += tests/unit/test_tframe
endif
tests_unit_test_tframe_SOURCES = tests/unit/test_tframe.c
tests_unit_test_tframe_LDADD = $(UNIT_LDADD)
tests_unit_test_tframe_CFLAGS = $(UNIT_CFLAGS)
EXTRA_DIST += tests/fuzz/fuzz_tframe.c

# lib/mtext.c, lib/mtext_check.c: the Prometheus text format, written and read.
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_mtext
TESTS += tests/unit/test_mtext
endif
tests_unit_test_mtext_SOURCES = tests/unit/test_mtext.c
tests_unit_test_mtext_LDADD = $(UNIT_LDADD)
tests_unit_test_mtext_CFLAGS = $(UNIT_CFLAGS)
EXTRA_DIST += tests/fuzz/fuzz_mtext.c

# issue 8: storaged answers from its first second while its index builds in the
# background (a generated store of 3,000 manifests), and within 1 s of kill -9
INTEGRATION_TESTS += tests/integration/test_index_build.sh

# issue 8, ownership: start fixes only the store's top directories; what a registry:2
# run as root left is repaired when storaged's write meets it; check reports it
INTEGRATION_TESTS += tests/integration/test_store_owner.sh
# master/store_owner.c: what storaged may ask master to repair, and what a
# repair changes (as root: the no-follow walk, its units and its bound)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_store_owner
TESTS += tests/unit/test_store_owner
endif
tests_unit_test_store_owner_SOURCES = tests/unit/test_store_owner.c \
	master/store_owner.c
tests_unit_test_store_owner_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/master
tests_unit_test_store_owner_LDADD = $(UNIT_LDADD)
tests_unit_test_store_owner_CFLAGS = $(UNIT_CFLAGS)
# storaged/owner.c: storaged's side of the repair channel, driven as master
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_storaged_repair
TESTS += tests/unit/test_storaged_repair
endif
tests_unit_test_storaged_repair_SOURCES = tests/unit/test_storaged_repair.c \
	tests/unit/worker_driver.c tests/unit/worker_driver.h
tests_unit_test_storaged_repair_LDADD = $(UNIT_LDADD)
tests_unit_test_storaged_repair_CFLAGS = $(UNIT_CFLAGS)
# issue 8: a generated store of a team's size (bench/genstore, built by make): first
# answers within 1 s of start and of kill -9 of storaged, listings, a tag moved by
# docker-registry while regmaster was stopped
INTEGRATION_TESTS += tests/integration/test_bigstore.sh

# issue 9: lib/swrr.c, the relay's smooth weighted round-robin
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_swrr
TESTS += tests/unit/test_swrr
endif
tests_unit_test_swrr_SOURCES = tests/unit/test_swrr.c
tests_unit_test_swrr_LDADD = $(UNIT_LDADD)
tests_unit_test_swrr_CFLAGS = $(UNIT_CFLAGS)
# lib/tbucket: the status page's bcrypt budget
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_tbucket
TESTS += tests/unit/test_tbucket
endif
tests_unit_test_tbucket_SOURCES = tests/unit/test_tbucket.c
tests_unit_test_tbucket_LDADD = $(UNIT_LDADD)
tests_unit_test_tbucket_CFLAGS = $(UNIT_CFLAGS)

# issue 9: tunneld/ctrl.c, the tunnel's control messages (JSON in TF_CTRL)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_ctrl
TESTS += tests/unit/test_ctrl
endif
tests_unit_test_ctrl_SOURCES = tests/unit/test_ctrl.c $(TUNNELD_CORE)
tests_unit_test_ctrl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tunneld
tests_unit_test_ctrl_LDADD = $(UNIT_LDADD)
tests_unit_test_ctrl_CFLAGS = $(UNIT_CFLAGS)
EXTRA_DIST += tests/fuzz/fuzz_ctrl.c

# issue 9: tunneld/probe.c, a health check's HTTP request and status line
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_probe
TESTS += tests/unit/test_probe
endif
tests_unit_test_probe_SOURCES = tests/unit/test_probe.c tunneld/probe.c \
	tunneld/probe.h
tests_unit_test_probe_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tunneld
tests_unit_test_probe_LDADD = $(UNIT_LDADD)
tests_unit_test_probe_CFLAGS = $(UNIT_CFLAGS)
EXTRA_DIST += tests/fuzz/fuzz_probe.c

# issue 10: the metrics listener scraped by a real Prometheus, /healthz, /readyz
INTEGRATION_TESTS += tests/integration/test_metrics.sh

# issue 9: the tunnel on loopback: a relay (master and tunneld alone) and clients;
# skopeo through the relay, kill -9 of either tunneld, the relay down at the client's
# start, wrong token, fingerprint and port, 60/40 over 1000 visitors
INTEGRATION_TESTS += tests/integration/test_tunnel.sh
EXTRA_DIST += tests/integration/tunnel_names.py tests/integration/visitor_limit.py
EXTRA_DIST += tests/integration/conn_relay.py

# lib/tzip.c: per-frame deflate of tunnel streams, and what a hostile peer's
# deflated payloads cannot do.
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_tzip
TESTS += tests/unit/test_tzip
endif
tests_unit_test_tzip_SOURCES = tests/unit/test_tzip.c
tests_unit_test_tzip_LDADD = $(UNIT_LDADD)
tests_unit_test_tzip_CFLAGS = $(UNIT_CFLAGS)
EXTRA_DIST += tests/fuzz/fuzz_tzip.c

# lib/proxyv2.c: the PROXY protocol v2 headers the tunnel client writes and
# httpd reads on http.proxy_listen.
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_proxyv2
TESTS += tests/unit/test_proxyv2
endif
tests_unit_test_proxyv2_SOURCES = tests/unit/test_proxyv2.c
tests_unit_test_proxyv2_LDADD = $(UNIT_LDADD)
tests_unit_test_proxyv2_CFLAGS = $(UNIT_CFLAGS)
EXTRA_DIST += tests/fuzz/fuzz_proxyv2.c

# issue 9: http.proxy_listen, where every connection starts with a PROXY v2
# header whose address is then the client's (logs, audit, limits, authd)
INTEGRATION_TESTS += tests/integration/test_proxy_protocol.sh
EXTRA_DIST += tests/integration/proxy_client.py

# tunneld/status_html.c: the relay's status document as HTML, hostile names as text
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_status_html
TESTS += tests/unit/test_status_html
endif
tests_unit_test_status_html_SOURCES = tests/unit/test_status_html.c \
	tunneld/status_html.c tunneld/status.h
tests_unit_test_status_html_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tunneld
tests_unit_test_status_html_LDADD = $(UNIT_LDADD)
tests_unit_test_status_html_CFLAGS = $(UNIT_CFLAGS)
# issue 9: the relay's status page served from a fixture (status_serve), with
# curl and headless Chromium: Basic auth, the page's DOM, status.json
check_PROGRAMS += tests/integration/status_serve
tests_integration_status_serve_SOURCES = tests/integration/status_serve.c \
	$(TUNNELD_STATUS)
tests_integration_status_serve_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tunneld
tests_integration_status_serve_LDADD = $(REGMASTER_LIBS)
INTEGRATION_TESTS += tests/integration/test_status_page.sh
EXTRA_DIST += tests/integration/status_fixture.json
# issue 9 on loopback: a proxy with compression and proxy_protocol into
# http.proxy_listen (identical bytes, the visitor's address in the registry's
# log), and the running relay's status page (JSON, Chromium)
INTEGRATION_TESTS += tests/integration/test_tunnel_options.sh

# lib/util.c addr_parse: the visitor's address the tunnel client reads from
# the relay's OPEN (for its PROXY v2 header)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_addr
TESTS += tests/unit/test_addr
endif
tests_unit_test_addr_SOURCES = tests/unit/test_addr.c
tests_unit_test_addr_LDADD = $(UNIT_LDADD)
tests_unit_test_addr_CFLAGS = $(UNIT_CFLAGS)
EXTRA_DIST += tests/fuzz/fuzz_addr.c

# the harness of the tunnel suites: network namespaces joined by veth (root only,
# skipped otherwise) and headless Chromium with Basic auth
INTEGRATION_TESTS += tests/integration/test_netns.sh tests/integration/test_chromium.sh
EXTRA_DIST += tests/integration/cdp_dump.py tests/integration/page_server.py \
	tests/integration/visitors.py
# issue 9 across namespaces joined by veth, as root (skipped otherwise): skopeo 256 MiB
# through the relay, docker-registry behind it, 99 visitors beside a silent one
INTEGRATION_TESTS += tests/integration/test_tunnel_netns.sh

# issue 10: gc durations and retention policies (lib/retention.c)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_retention
TESTS += tests/unit/test_retention
endif
tests_unit_test_retention_SOURCES = tests/unit/test_retention.c
tests_unit_test_retention_LDADD = $(UNIT_LDADD)
tests_unit_test_retention_CFLAGS = $(UNIT_CFLAGS)

# issue 10: gcd's sweep batches to storaged and their answers (lib/gcbatch.c)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_gcbatch
TESTS += tests/unit/test_gcbatch
endif
tests_unit_test_gcbatch_SOURCES = tests/unit/test_gcbatch.c
tests_unit_test_gcbatch_LDADD = $(UNIT_LDADD)
tests_unit_test_gcbatch_CFLAGS = $(UNIT_CFLAGS)
EXTRA_DIST += tests/fuzz/fuzz_gcbatch.c tests/fuzz/fuzz_digest_hex.c

# issue 10: gcd's read of a store on disk (gcd/scan.c)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_gcscan
TESTS += tests/unit/test_gcscan
endif
tests_unit_test_gcscan_SOURCES = tests/unit/test_gcscan.c gcd/scan.c
tests_unit_test_gcscan_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/gcd
tests_unit_test_gcscan_LDADD = $(UNIT_LDADD)
tests_unit_test_gcscan_CFLAGS = $(UNIT_CFLAGS)

# issue 10: digest sets (lib/dset.c), a table per algorithm
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_dset
TESTS += tests/unit/test_dset
endif
tests_unit_test_dset_SOURCES = tests/unit/test_dset.c
tests_unit_test_dset_LDADD = $(UNIT_LDADD)
tests_unit_test_dset_CFLAGS = $(UNIT_CFLAGS)

# issue 10: online gc and retention with real pushes, docker-registry afterwards
INTEGRATION_TESTS += tests/integration/test_gc.sh
# issue 11: cache.max_size evicts the least recently pulled cached images
INTEGRATION_TESTS += tests/integration/test_cache_evict.sh
# issue 10: gc in a loop racing 50 concurrent skopeo pushes
INTEGRATION_TESTS += tests/integration/test_gc_concurrent.sh
# issue 10: gcd's plan (untagged manifests, retention, the mark, usage)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_gcplan
TESTS += tests/unit/test_gcplan
endif
tests_unit_test_gcplan_SOURCES = tests/unit/test_gcplan.c gcd/plan.c gcd/evict.c \
	gcd/scan.c
tests_unit_test_gcplan_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/gcd
tests_unit_test_gcplan_LDADD = $(UNIT_LDADD)
tests_unit_test_gcplan_CFLAGS = $(UNIT_CFLAGS)
# lib/resolve: name lookups off the event loop; lib/pwcheck: bcrypt off it
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_resolve tests/unit/test_pwcheck
TESTS += tests/unit/test_resolve tests/unit/test_pwcheck
endif
tests_unit_test_pwcheck_SOURCES = tests/unit/test_pwcheck.c
tests_unit_test_pwcheck_LDADD = $(UNIT_LDADD)
tests_unit_test_pwcheck_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_resolve_SOURCES = tests/unit/test_resolve.c
tests_unit_test_resolve_LDADD = $(UNIT_LDADD)
tests_unit_test_resolve_CFLAGS = $(UNIT_CFLAGS)

# the pull-through cache's parsers: challenges, tokens, response heads
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_wwwauth
TESTS += tests/unit/test_wwwauth
endif
tests_unit_test_wwwauth_SOURCES = tests/unit/test_wwwauth.c
tests_unit_test_wwwauth_LDADD = $(UNIT_LDADD)
tests_unit_test_wwwauth_CFLAGS = $(UNIT_CFLAGS)

# a forwarding edge's rewriting: Location back to the edge, a mount's from=
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_fwdmap
TESTS += tests/unit/test_fwdmap
endif
tests_unit_test_fwdmap_SOURCES = tests/unit/test_fwdmap.c
tests_unit_test_fwdmap_LDADD = $(UNIT_LDADD)
tests_unit_test_fwdmap_CFLAGS = $(UNIT_CFLAGS)

# issue 10: the loop's count of ready descriptors, without the quiet ones (lib/ev.c)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_ev
TESTS += tests/unit/test_ev
endif
tests_unit_test_ev_SOURCES = tests/unit/test_ev.c
tests_unit_test_ev_LDADD = $(UNIT_LDADD)
tests_unit_test_ev_CFLAGS = $(UNIT_CFLAGS)

# the remembered keyed hashes authd and tunneld share (lib/keyhash.c)
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_keyhash
TESTS += tests/unit/test_keyhash
endif
tests_unit_test_keyhash_SOURCES = tests/unit/test_keyhash.c
tests_unit_test_keyhash_LDADD = $(UNIT_LDADD)
tests_unit_test_keyhash_CFLAGS = $(UNIT_CFLAGS)
