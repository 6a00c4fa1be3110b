# The other apps' databases (staging, sites), each set up the same way from its own roles file.
# shellcheck disable=SC2043 # one app or several: the same loop
for roles in @@ROLES_FILES@@; do
  @@POSTGRES_SETUP@@ "$roles"
done
