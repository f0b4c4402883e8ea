# storaged/: the storaged worker, the only writer of the content store.
STORAGED_CORE = storaged/store.c storaged/store.h storaged/index.c \
	storaged/index.h storaged/minfo.c storaged/drepo.c storaged/drepo.h \
	storaged/build.c storaged/req.c storaged/blob.c storaged/upload.c \
	storaged/copier.c storaged/copier.h storaged/ucount.c storaged/ucount.h \
	storaged/task.c storaged/task.h storaged/owner.c \
	storaged/manifest.c storaged/pulls.c storaged/pulls.h storaged/list.c storaged/gc.c storaged/storaged.h
pkglibexec_PROGRAMS += storaged/storaged
storaged_storaged_SOURCES = storaged/storaged.c $(STORAGED_CORE)
storaged_storaged_LDADD = $(REGMASTER_LIBS)
