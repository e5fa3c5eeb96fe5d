from blueberry import create_app

app = create_app()
