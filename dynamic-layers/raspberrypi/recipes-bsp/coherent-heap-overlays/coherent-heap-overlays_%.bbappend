# Raspberry Pi: the firmware applies the overlays that config.txt names, from
# the boot partition's overlays/ directory. Everything under
# ${DEPLOY_DIR_IMAGE}/${BOOTFILES_DIR_NAME} goes into the boot partition.
do_deploy:append:rpi() {
    install -d ${DEPLOYDIR}/${BOOTFILES_DIR_NAME}/overlays
    : >${DEPLOYDIR}/coherent-heap-overlays.txt
    for dtbo in $(find ${B} -maxdepth 1 -name '*.dtbo' | LC_ALL=C sort); do
        install -m 0644 $dtbo ${DEPLOYDIR}/${BOOTFILES_DIR_NAME}/overlays/
        basename $dtbo .dtbo >>${DEPLOYDIR}/coherent-heap-overlays.txt
    done
}
