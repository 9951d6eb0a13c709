"""What every civicwatch process shares and nothing more: settings, logging, topic admin, the Kafka
sink and the dead-letter builder. It imports ``schemas`` only, never a process package."""
