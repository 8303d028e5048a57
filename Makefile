# admint — the two commands a newcomer needs:
#   make run    build and make a demo advert offline (no API keys), in out/demo/
#   make test   install what is missing (ffmpeg) and run the whole test suite

CARGO ?= cargo
DEMO_DIR ?= out/demo

.PHONY: run test bench deps build lint clean

# ffmpeg (with ffprobe and fonts for drawtext) from the system's packages, if missing.
deps:
	@if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -q .; then \
	  echo "installing ffmpeg and a font (Debian/Ubuntu packages)"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  if command -v apt-get >/dev/null 2>&1; then \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq ffmpeg fonts-dejavu-core >/dev/null; \
	  elif command -v brew >/dev/null 2>&1; then brew install ffmpeg; \
	  else echo "please install ffmpeg with your package manager" >&2; exit 1; fi; \
	fi
	@ffmpeg -hide_banner -version | head -1

build:
	$(CARGO) build --release

run: deps build
	./target/release/admint generate \
	  --prompt "pink running shoes with white laces for Gen Z runners" \
	  --product-name "AirRun Pro" --cta "Shop now: 20% off" \
	  --auto --output $(DEMO_DIR)
	@echo "advert: $(DEMO_DIR)/final.mp4 (storyboard: $(DEMO_DIR)/storyboard.md)"

test: deps
	$(CARGO) test --locked

bench: deps
	$(CARGO) bench --locked --bench pipeline

lint:
	$(CARGO) clippy --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf out admint-out
