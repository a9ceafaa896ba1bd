# `make screenshots`: PNGs of the widget and ferry's other end-user pages,
# each at 360 and 1280 px wide, under build/screenshots/ (see
# tests/e2e/screenshots.mjs). Installs what is missing first, as `make
# demo` does, since it needs Chromium and the end-to-end npm packages.

SCREENSHOTS := build/screenshots

.PHONY: screenshots
screenshots: deps
	$(MAKE) ferry
	@mkdir -p $(SCREENSHOTS)
	cd tests/e2e && TEST_FERRY_BIN=$(CURDIR)/ferry \
	    node screenshots.mjs $(CURDIR)/$(SCREENSHOTS)
