# With conf/include/coherent-heap.inc (the coherent-heap override), config.txt
# loads the layer's overlays, which coherent-heap-overlays deploys into the
# boot partition's overlays/ directory.
do_deploy[depends] += "${@'coherent-heap-overlays:do_deploy' if 'coherent-heap' in d.getVar('OVERRIDES').split(':') else ''}"

do_deploy:append:coherent-heap() {
    while read -r overlay; do
        echo "dtoverlay=$overlay" >>$CONFIG
    done <${DEPLOY_DIR_IMAGE}/coherent-heap-overlays.txt
}
