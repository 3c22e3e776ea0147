from pagetally_client.main import run

run()
