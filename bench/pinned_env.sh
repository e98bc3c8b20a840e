# Sourced by the benchmark scripts (after they set ROOT). The product reads its settings from
# the environment (and .env, which real variables override): pin every one that matters, so a
# developer's .env cannot change a run (a DATABASE_URL there would send it to PostgreSQL).
export TELEGRAM_BOT_TOKEN="123456:AAbench-bench-bench-bench-bench-bench"
export FLOW_FILE="$ROOT/flows/sciatica.yaml"
export BOOKING_URL="https://example.com/book?utm_source=telegram"
export EMERGENCY_NUMBER=999 LOG_LEVEL=WARNING BOT_USERNAME=bench_triage_bot
export TELEGRAM_API_BASE_URL="" WEBHOOK_URL="" WEBHOOK_SECRET_TOKEN="" ADMIN_CHAT_IDS=""
export DATABASE_URL="" DATABASE_PATH="" HEALTH_PORT="" BACKUP_DIR=""
