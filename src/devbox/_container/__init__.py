"""Scripts that run inside the build (stdlib only, Python >= 3.8); not imported by devbox."""
