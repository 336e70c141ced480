# fer-facetrack on composed sequences with known identities (real face
# photos moved across a background by scripts/compose-faces.py): one face
# passes over another, one enters late and leaves early, one vanishes for 4
# frames. No track may ever follow two people, each person is one track,
# and each person's visible frames are found.
. "$FER_ROOT/tests/tools/lib.sh"
need_media astronaut.png grace_hopper_512x512.jpg
/usr/bin/python3 -c 'import cv2' 2>/dev/null || skip "python3-opencv missing"

/usr/bin/python3 "$FER_ROOT/scripts/compose-faces.py" "$FER_MEDIA" "$T" 2>/dev/null
cd "$T"
fer-facetrack -q --min-size 50x50 -o crops frames.tsv >faces.tsv

/usr/bin/python3 - faces.tsv truth.tsv <<'PY' || fail "tracking does not match the ground truth"
import csv, sys
faces = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
truth = list(csv.DictReader(open(sys.argv[2]), delimiter="\t"))
patches = {}  # frame -> [(identity, x, y, side)]
for t in truth:
    patches.setdefault(int(t["frame"]), []).append(
        (int(t["identity"]), int(t["x"]), int(t["y"]), int(t["w"])))
who_of_track, found = {}, {}
bad = 0
for row in faces:
    frame, track = int(row["frame"]), row["track"]
    cx = int(row["x"]) + int(row["w"]) / 2
    cy = int(row["y"]) + int(row["h"]) / 2
    inside = [p[0] for p in patches.get(frame, [])
              if p[1] <= cx < p[1] + p[3] and p[2] <= cy < p[2] + p[3]]
    if not inside:
        continue  # a partly hidden face: no ground truth to hold it to
    who = inside[0]
    if who_of_track.setdefault(track, who) != who:
        print(f"frame {frame}: track {track} switched from person {who_of_track[track]} to {who}")
        bad += 1
    found.setdefault(who, set()).add(frame)
people = {int(t["identity"]) for t in truth}
tracks_of = {}
for track, who in who_of_track.items():
    tracks_of.setdefault(who, []).append(track)
for who in sorted(people):
    visible = {int(t["frame"]) for t in truth if int(t["identity"]) == who}
    recall = len(found.get(who, set()) & visible) / len(visible)
    print(f"person {who}: tracks {tracks_of.get(who)}, found in {recall:.1%} of {len(visible)} visible frames")
    if len(tracks_of.get(who, [])) != 1 or recall < 0.95:
        bad += 1
extra = set(r["track"] for r in faces) - set(who_of_track)
if extra:
    print(f"tracks following no one: {sorted(extra)}")
    bad += 1
sys.exit(1 if bad else 0)
PY

# Track ids are unique within the clip, crops exist and have the size asked.
tracks() { cut -f "$(col "$1" track)" "$1" | sed 1d | grep -v '^$' | sort -u | wc -l; }
[ "$(tracks faces.tsv)" -eq 3 ] || fail "expected 3 track ids"
crop=$(sed -n 2p faces.tsv | cut -f "$(col faces.tsv crop)")
[ -s "$crop" ] || fail "crop $crop missing"
size=$(/usr/bin/python3 -c "import cv2,sys; print(cv2.imread(sys.argv[1]).shape[:2])" "$crop")
[ "$size" = "(64, 64)" ] || fail "crop size $size, expected (64, 64)"

# --keep-empty keeps every frame's place; --min-track drops short tracks.
fer-facetrack -q --min-size 50x50 --keep-empty -o crops frames.tsv >all.tsv
[ "$(sed 1d all.tsv | cut -f "$(col all.tsv frame)" | sort -u | wc -l)" -eq 90 ] ||
    fail "--keep-empty lost frames"
fer-facetrack -q --min-size 50x50 --min-track 60 -o crops frames.tsv >long.tsv
[ "$(tracks long.tsv)" -eq 2 ] || fail "--min-track 60 kept a 36-face track"
# --mask removes faces centred in the area (person 2 sits at 260..370, 240..350).
fer-facetrack -q --min-size 50x50 --mask 250,230,130,130 -o crops frames.tsv >masked.tsv
[ "$(tracks masked.tsv)" -eq 2 ] || fail "--mask did not remove person 2"
exit 0
