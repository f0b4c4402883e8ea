# lib/: code shared by master and the workers.
noinst_LIBRARIES += lib/libregmaster.a
lib_libregmaster_a_SOURCES = \
	lib/audit.c lib/audit.h lib/buf.c lib/buf.h \
	lib/conf.c lib/conf.h lib/params.h lib/conf_file.c lib/conf_rules.c \
	lib/conf_tunnel.c lib/conf_tunnel.h lib/conf_cache.c lib/conf_cache.h lib/cache_held.c lib/cache_held.h lib/retention.c lib/retention.h \
	lib/acl.c lib/acl.h lib/b64.c lib/b64.h lib/jwt.c lib/jwt.h \
	lib/htpasswd.c lib/htpasswd.h lib/authhdr.c lib/authhdr.h lib/wwwauth.c lib/wwwauth.h lib/fwdmap.c lib/fwdmap.h \
	lib/keyhash.c lib/keyhash.h lib/ossl.c lib/ossl.h \
	lib/ev.c lib/ev.h \
	lib/link.c lib/link.h \
	lib/log.c lib/log.h \
	lib/msg.c lib/msg.h lib/msgtypes.c lib/msgtypes.h \
	lib/mtext.c lib/mtext_check.c lib/mtext.h lib/mpage.c lib/mpage.h \
	lib/privsep.c lib/privsep.h \
	lib/proc.c lib/proc.h \
	lib/regerr.c lib/regerr.h \
	lib/sandbox.c lib/sandbox_policy.c lib/sandbox.h \
	lib/http.c lib/http.h \
	lib/digest.c lib/digest.h lib/hash.c lib/dset.c lib/dset.h \
	lib/gcbatch.c lib/gcbatch.h \
	lib/oci.c lib/oci.h \
	lib/tframe.c lib/tframe.h lib/swrr.c lib/swrr.h lib/tbucket.c lib/tbucket.h lib/tzip.c lib/tzip.h \
	lib/proxyv2.c lib/proxyv2.h \
	lib/pool.c lib/pool.h lib/pwcheck.c lib/pwcheck.h lib/resolve.c lib/resolve.h \
	lib/thread.c lib/thread.h lib/util.c lib/util.h \
	lib/worker.c lib/worker.h
