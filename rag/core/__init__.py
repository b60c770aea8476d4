"""The plain data every pipeline stage passes on, and the facts the stages share."""
