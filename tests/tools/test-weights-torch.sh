# fer-weights against PyTorch: a torchvision-named ResNet-18 state dict saved
# as safetensors reads, rewrites and loads back bit-identically, and our
# writer's bytes equal the reference writer's (scripts/check-weights-torch.py).
. "$FER_ROOT/tests/tools/lib.sh"

/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null ||
    skip "PyTorch or numpy missing for /usr/bin/python3 (run scripts/install-deps)"
/usr/bin/python3 "$FER_ROOT/scripts/check-weights-torch.py" "$FER_BIN/fer-weights" "$T" ||
    fail "check-weights-torch.py"
no_temp_files "$T"
