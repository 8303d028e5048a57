# admint — the two commands a newcomer needs:
#   make run    build and open the full-screen UI (make an advert offline, no API keys);
#               without a terminal it renders the demo advert headless instead
#   make test   install what is missing (ffmpeg, tmux, OpenCV for Python) and run the whole test suite
#   make demo   headless: a demo advert straight to out/demo/final.mp4

CARGO ?= cargo
DEMO_DIR ?= out/demo

.PHONY: run demo demo-advert test test-deps bench deps build lint clean

# ffmpeg (with ffprobe), the DejaVu fonts (the templates' faces: sans, sans bold, serif bold)
# from the system's packages, if missing; tmux for the end-to-end terminal tests.
deps:
	@if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -q "DejaVu Serif" || ! command -v tmux >/dev/null 2>&1; then \
	  echo "installing ffmpeg, a font and tmux (Debian/Ubuntu packages)"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  if command -v apt-get >/dev/null 2>&1; then \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq ffmpeg fonts-dejavu-core tmux >/dev/null; \
	  elif command -v brew >/dev/null 2>&1; then brew install ffmpeg tmux; \
	  else echo "please install ffmpeg with your package manager" >&2; exit 1; fi; \
	fi
	@ffmpeg -hide_banner -version | head -1

build:
	$(CARGO) build --release

# On a terminal: the full-screen UI. Without one (a script, CI): the headless demo advert.
run: deps build
	@if [ -t 0 ] && [ -t 1 ]; then ./target/release/admint; else $(MAKE) --no-print-directory demo-advert; fi

demo: deps build
	@$(MAKE) --no-print-directory demo-advert

demo-advert:
	./target/release/admint generate \
	  --prompt "pink running shoes with white laces for Gen Z runners" \
	  --product-name "AirRun Pro" --cta "Shop now: 20% off" \
	  --auto --output $(DEMO_DIR)
	@echo "advert: $(DEMO_DIR)/final.mp4 (storyboard: $(DEMO_DIR)/storyboard.md)"

# VBench's own temporal_flickering (tests/vbench_reference) runs on Python with OpenCV;
# the caption test reads burned captions back with tesseract.
test-deps:
	@command -v tesseract >/dev/null 2>&1 || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq tesseract-ocr >/dev/null; }
	@python3 -c "import cv2, numpy" 2>/dev/null || python3 -m pip install --quiet opencv-python-headless numpy 2>/dev/null || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-opencv python3-numpy >/dev/null; }
	@python3 -c "import cv2; print('opencv', cv2.__version__, 'for the VBench reference test')"

test: deps test-deps
	$(CARGO) test --locked

bench: deps
	$(CARGO) bench --locked --bench pipeline
	$(CARGO) bench --locked --bench tui_frame
	$(CARGO) bench --locked --bench quality
	$(CARGO) bench --locked --bench store

lint:
	$(CARGO) clippy --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf out admint-out
