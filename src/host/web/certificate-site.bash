if [ ! -e @@ENABLED@@.conf ]; then
  if [ -f @@CERTIFICATE@@/fullchain.pem ] || certbot @@CERTBOT_ARGS@@; then
    ln -sfn ../sites-available/studyhost-@@SITE@@.conf @@ENABLED@@.conf
    rm -f @@ENABLED@@-holding.conf
    changed=yes
  else
    echo "studyhost-certificate: @@SITE@@ (@@SERVER_NAMES@@) got no certificate (certbot's error above); it stays on its holding page" >&2
    failed+=(@@FAILED@@)
  fi
fi
