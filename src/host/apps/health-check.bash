systemctl is-enabled --quiet @@UNIT@@ || { echo "@@UNIT@@ was never deployed (see the app step)"; exit 1; }
for _ in $(seq 1 60); do curl -fsS -o /dev/null @@URL@@ && break; sleep 2; done
curl -fsS -o /dev/null @@URL@@
echo "app answers at @@URL@@"
if [ -f @@LETSENCRYPT@@/live/@@DOMAIN@@/fullchain.pem ]; then
  # nginx applies a reload asynchronously: give the https site a moment to come up.
  for _ in $(seq 1 15); do curl -fsS -o /dev/null --insecure --resolve @@DOMAIN@@:443:127.0.0.1 https://@@DOMAIN@@@@HEALTH_PATH@@ && break; sleep 2; done
  curl -fsS -o /dev/null --insecure --resolve @@DOMAIN@@:443:127.0.0.1 https://@@DOMAIN@@@@HEALTH_PATH@@
  echo "and through nginx at https://@@DOMAIN@@@@HEALTH_PATH@@"
fi
