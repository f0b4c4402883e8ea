# man/: manual pages
dist_man_MANS += man/regmaster.8 man/regmaster.conf.5
