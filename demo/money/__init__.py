"""The money side of the demo city union (`manage.py seed_demo_money`):
funds, programs, a mutual-aid cooperative and a year of work done through
the services, each step on the day it would have happened."""
