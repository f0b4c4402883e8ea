# etc/: the commented default configuration, installed once, never overwritten.
EXTRA_DIST += etc/regmaster.conf etc/prometheus.yml etc/regmaster-alerts.yml
regmasterconfdir = $(sysconfdir)/regmaster

install-data-local: install-regmaster-conf
install-regmaster-conf:
	$(MKDIR_P) $(DESTDIR)$(regmasterconfdir)
	@if test -f $(DESTDIR)$(regmasterconfdir)/regmaster.conf; then \
	  echo "keeping existing $(DESTDIR)$(regmasterconfdir)/regmaster.conf"; \
	else \
	  $(INSTALL_DATA) $(srcdir)/etc/regmaster.conf \
	    $(DESTDIR)$(regmasterconfdir)/regmaster.conf; \
	fi

uninstall-local: uninstall-regmaster-conf
uninstall-regmaster-conf:
	@if test -f $(DESTDIR)$(regmasterconfdir)/regmaster.conf && \
	  cmp -s $(srcdir)/etc/regmaster.conf \
	    $(DESTDIR)$(regmasterconfdir)/regmaster.conf; then \
	  rm -f $(DESTDIR)$(regmasterconfdir)/regmaster.conf; \
	fi
